"""Clients for Haal Centraal BRP Personen and Reisdocumenten, minimised to yes/no answers.

Why this shape: a check may answer only ja, nee or onbekend, and an error must
never become nee. So every failure (timeout, unreachable, problem+json, a body
that is not what the specification promises) raises a
:class:`~nazorg.sources.errors.SourceError`, which the check maps to onbekend.
Every question returns one :class:`~nazorg.sources.answer.Antwoord` per
requested BSN: an answer the source leaves open (an incomplete date that may or
may not mean a minor, an unknown verblijfplaats type, two records that disagree)
is onbekend with ``bron_ambigu``; a person the BRP does not return is onbekend
with ``persoon_niet_gevonden``. What the BRP says about its own record (a
persoonslijst no longer kept, a field in onderzoek, an address established not
to be lived at, a document of another holder) is read as well; see
:mod:`nazorg.sources.brp_signalen`. A nee is only given when the source
positively says so.

Data minimisation: each question asks the API for the fewest ``fields`` that
answer it, the raw response is mapped to booleans at once and then dropped,
and nothing here logs a BSN or a response body. Error messages carry only the
source, the reason, the HTTP status and the problem's ``code``.

Both APIs are called exactly as their OpenAPI specifications describe: POST with
a JSON query carrying a ``type`` discriminator and the mandatory ``fields``.

Every request carries a W3C ``traceparent`` (the processing log's trace id, a
fresh span id per attempt; :mod:`nazorg.sources.trace_context`) and, when the
caller passes them, the BRP API gateway's protocollering headers
(:func:`protocollering_headers`); the :class:`~nazorg.sources.trace_context.Spoor`
of the question records which request served which BSN.
"""

from __future__ import annotations

import calendar
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, ClassVar, Final

import httpx

from nazorg.models import Reden
from nazorg.settings import (
    DEFAULT_BRP_PERSONEN_MAX_BYTES,
    DEFAULT_REISDOCUMENTEN_MAX_BYTES,
    DEFAULT_SOURCE_DEADLINE_S,
)
from nazorg.sources import brp_signalen as signalen
from nazorg.sources.answer import Antwoord
from nazorg.sources.brp_signalen import InOnderzoek, Uitslag
from nazorg.sources.deadline import Deadline
from nazorg.sources.errors import SourceError, SourceTimeout, SourceUnavailable
from nazorg.sources.errors import veilige_code as veilige_code  # its home was here; still importable
from nazorg.sources.http_deadline import DeadlineTransport, deadline_scope
from nazorg.sources.trace_context import (
    ForeignOperation,
    Spoor,
    entity_uri,
    lees_traceresponse,
    nieuwe_span_id,
    nieuwe_trace_id,
    traceparent,
)

PERSONEN_TYPE: Final = "RaadpleegMetBurgerservicenummer"
REISDOCUMENTEN_TYPE: Final = "ZoekMetBurgerservicenummer"
MAX_BSNS_PER_REQUEST: Final = 20  # the spec's maxItems for burgerservicenummer
#: BRP Personen requests of one call in flight at once (each up to 20 BSNs)
BRP_MAX_CONCURRENCY: Final = 8

# ``burgerservicenummer`` is requested next to the field that answers the question
# because a response for up to 20 BSNs leaves out persons that are not found, so
# without it the answers could not be matched to the persons asked about. It
# discloses nothing new: the client sent those BSNs itself.
WOONADRES_FIELDS: Final = ("burgerservicenummer", "verblijfplaats.functieAdres")
KINDEREN_FIELDS: Final = ("burgerservicenummer", "kinderen.geboorte.datum")
# Does the BRP know the persoon at all? ``fields`` needs at least one path (the
# spec's minItems 1), and the BSN is the one that discloses nothing new; the
# record's opschortingBijhouding and inOnderzoek come with it unasked.
BESTAAN_FIELDS: Final = ("burgerservicenummer",)
# Only the aanduiding of an inhouding or vermissing is needed to know a document is
# no longer usable; its date is not. ``houder.burgerservicenummer`` proves the
# document is the asked person's (a document of someone else must never answer
# ja); it is the least that proves it and discloses nothing new: the client sent
# that BSN itself.
# Not requested, because the API delivers them unasked (and refuses them in
# ``fields``): opschortingBijhouding, inOnderzoek and, with a verblijfplaats
# field, indicatieVastgesteldVerblijftNietOpAdres (see brp_signalen).
REISDOCUMENT_FIELDS: Final = (
    "datumEindeGeldigheid",
    "inhoudingOfVermissing.aanduiding",
    "houder.burgerservicenummer",
)

TRANSIENT_STATUS: Final = frozenset({429, 500, 502, 503, 504})
#: an error body is read only for its problem ``code``; a real problem+json is well under 2 KiB
MAX_PROBLEM_BYTES: Final = 16 << 10
MEERDERJARIG_JAREN: Final = 18

_BSN_RE: Final = re.compile(r"[0-9]{9}")

#: The protocollering headers of the BRP API gateways gemeenten use. Not in the Haal
#: Centraal OpenAPI specifications (the API itself does not define them): the names are
#: the ones gateway clients send, e.g. Open Formulieren ("Configuration of protocollering
#: headers": ``x-doelbinding``, ``x-verwerking``, ``x-origin-oin``, ``x-gebruiker``) and
#: the zaakafhandelcomponent (``X-DOELBINDING``, ``X-VERWERKING``, ``X-ORIGIN-OIN``,
#: ``X-GEBRUIKER``, values at most 242 characters: the gateway's protocol columns).
#: HTTP header names are case-insensitive. Which values a gateway accepts is agreed with
#: its supplier; see the README ("Logboek Dataverwerkingen and BRP protocollering").
DOELBINDING_HEADER: Final = "x-doelbinding"
VERWERKING_HEADER: Final = "x-verwerking"
ORIGIN_OIN_HEADER: Final = "x-origin-oin"
GEBRUIKER_HEADER: Final = "x-gebruiker"
PROTOCOLLERING_HEADERS: Final = (DOELBINDING_HEADER, VERWERKING_HEADER, ORIGIN_OIN_HEADER, GEBRUIKER_HEADER)
MAX_PROTOCOLLERING_LENGTE: Final = 242
_HEADER_WAARDE: Final = re.compile(r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$")
_CIJFERREEKS: Final = re.compile(r"[0-9]{9}")


def protocollering_headers(*, doelbinding: str, verwerking: str, oin: str, gebruiker: str) -> dict[str, str]:
    """The gateway's purpose-binding headers for one check of one gemeente; never personal data.

    Every value is printable ASCII of at most 242 characters; a value with a run of
    nine digits (a BSN could hide there) is refused, except ``x-origin-oin``, which
    is the gemeente's 20-digit organisation number and nothing else.
    """
    waarden = {
        DOELBINDING_HEADER: doelbinding,
        VERWERKING_HEADER: verwerking,
        ORIGIN_OIN_HEADER: oin,
        GEBRUIKER_HEADER: gebruiker,
    }
    for naam, waarde in waarden.items():
        if len(waarde) > MAX_PROTOCOLLERING_LENGTE or not _HEADER_WAARDE.fullmatch(waarde):
            raise ValueError(f"{naam}: geen geldige headerwaarde (printbare ASCII, 1-242 tekens)")
        if naam == ORIGIN_OIN_HEADER:
            if not re.fullmatch(r"[0-9]{20}", waarde):
                raise ValueError(f"{naam}: een OIN is 20 cijfers")
        elif _CIJFERREEKS.search(waarde):
            raise ValueError(f"{naam}: geen reeks van 9 cijfers in een protocolleringsheader")
    return waarden


_JITTER: Final = random.Random()  # noqa: S311 - spreads retries, not security


# --------------------------------------------------------------------------- mapping


def probleem_details(payload: object) -> tuple[int | None, str | None]:
    """``status`` and ``code`` of a problem+json body; anything unexpected is ignored."""
    if not isinstance(payload, Mapping):
        return None, None
    status = payload.get("status")
    geldig = isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 600
    return (status if geldig else None), veilige_code(payload.get("code"))


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def datum_bereik(datum: object) -> tuple[date, date] | None:
    """First and last day an AbstractDatum can mean; None if unknown or unreadable.

    A VolledigeDatum is one day; a JaarMaandDatum or JaarDatum is a range, so
    a caller can still decide when every day in it gives the same answer.
    """
    if not isinstance(datum, Mapping):
        return None
    soort = datum.get("type")
    try:
        if soort == "Datum":
            value = datum.get("datum")
            if not isinstance(value, str):
                return None
            day = date.fromisoformat(value)
            return day, day
        jaar = _int(datum.get("jaar"))
        if jaar is None:
            return None
        if soort == "JaarMaandDatum":
            maand = _int(datum.get("maand"))
            if maand is None:
                return None
            last = calendar.monthrange(jaar, maand)[1]
            return date(jaar, maand, 1), date(jaar, maand, last)
        if soort == "JaarDatum":
            return date(jaar, 1, 1), date(jaar, 12, 31)
    except (ValueError, calendar.IllegalMonthError):
        return None
    return None  # DatumOnbekend or a type we do not know


def _jaren_later(day: date, jaren: int) -> date:
    """The same calendar day ``jaren`` later; 29 February moves to 1 March."""
    try:
        return day.replace(year=day.year + jaren)
    except ValueError:
        return date(day.year + jaren, 3, 1)


def is_minderjarig(geboortedatum: object, peildatum: date) -> bool | None:
    """True/False when every possible birth day agrees; None when the date leaves it open."""
    bereik = datum_bereik(geboortedatum)
    if bereik is None:
        return None
    vroegst, laatst = bereik
    if vroegst > peildatum:  # born after the peildatum: not a usable date
        return None
    if peildatum < _jaren_later(vroegst, MEERDERJARIG_JAREN):
        return True  # even the earliest possible birth day leaves the kind under 18
    if peildatum >= _jaren_later(laatst, MEERDERJARIG_JAREN):
        return False
    return None


def _any_true(values: Sequence[bool | None]) -> bool | None:
    """True if any is True; otherwise None if any is open; otherwise False."""
    if any(v is True for v in values):
        return True
    if any(v is None for v in values):
        return None
    return False


def heeft_woonadres(persoon: Mapping[str, Any]) -> bool | None:
    """Is the persoon registered at a verblijfplaats with functieAdres W (woonadres)?

    The BRP Personen specification gives ``functieAdres`` (W woonadres, B
    briefadres) to both an ``Adres`` and a ``Locatie`` (a woonwagen standplaats or
    woonboot ligplaats described by a locatiebeschrijving instead of a BAG
    address). The requested field ``verblijfplaats.functieAdres`` therefore
    answers a Locatie as well: W is a woonadres, B is not. A briefadres, an
    unknown verblijfplaats and a foreign one are a positive no, and so is an
    address the gemeente established the person does not live at
    (``indicatieVastgesteldVerblijftNietOpAdres``). A verblijfplaats without a
    usable functieAdres, or of a type we do not know, is left open (None), so it
    can never quietly turn into "no woonadres".
    """
    verblijfplaats = persoon.get("verblijfplaats")
    if not isinstance(verblijfplaats, Mapping):
        return None
    vastgesteld = signalen.verblijft_niet_op_adres(verblijfplaats)
    if vastgesteld is not None:
        return None if isinstance(vastgesteld, Reden) else vastgesteld
    soort = verblijfplaats.get("type")
    if soort in ("Adres", "Locatie"):
        functie = verblijfplaats.get("functieAdres")
        code = functie.get("code") if isinstance(functie, Mapping) else None
        if code == "W":
            return True
        return False if code == "B" else None
    if soort in ("VerblijfplaatsOnbekend", "VerblijfplaatsBuitenland"):
        return False
    return None


def woonadres_uitslag(persoon: Mapping[str, Any], in_onderzoek: InOnderzoek = "onbekend") -> Uitslag:
    """:func:`heeft_woonadres` with the record's signals; see :mod:`~nazorg.sources.brp_signalen`."""
    telt = in_onderzoek == "onbekend"
    vraag = signalen.woonadres_uitslag(persoon, heeft_woonadres(persoon), telt)
    return signalen.persoon_uitslag(persoon, vraag, telt)


def kinderen_uitslag(
    persoon: Mapping[str, Any], peildatum: date, in_onderzoek: InOnderzoek = "onbekend"
) -> Uitslag:
    """Has the persoon a kind under 18 at peildatum, with the record's signals.

    A kind whose geboorte is in onderzoek is open (``bron_in_onderzoek``) when
    the check counts onderzoek, as is an incomplete date that could mean a minor
    (``bron_ambigu``); one kind that is certainly a minor still makes it ja.
    """
    telt = in_onderzoek == "onbekend"
    kinderen = persoon.get("kinderen")
    vraag: Uitslag
    if kinderen is None:
        vraag = False  # the API leaves out an empty list
    elif not isinstance(kinderen, list):
        vraag = Reden.BRON_AMBIGU
    else:
        uitslagen: list[Uitslag] = []
        for kind in kinderen:
            if telt and signalen.kind_in_onderzoek(kind):
                uitslagen.append(Reden.BRON_IN_ONDERZOEK)
                continue
            geboorte = kind.get("geboorte") if isinstance(kind, Mapping) else None
            datum = geboorte.get("datum") if isinstance(geboorte, Mapping) else None
            uitslagen.append(signalen.of_ambigu(is_minderjarig(datum, peildatum)))
        vraag = signalen.een_ja(uitslagen)
    return signalen.persoon_uitslag(persoon, vraag, telt)


def heeft_minderjarig_kind(persoon: Mapping[str, Any], peildatum: date) -> bool | None:
    """Has the persoon a kind under 18 at peildatum? None if an incomplete date leaves it open."""
    kinderen = persoon.get("kinderen")
    if kinderen is None:
        return False  # the API leaves out an empty list
    if not isinstance(kinderen, list):
        return None
    antwoorden: list[bool | None] = []
    for kind in kinderen:
        geboorte = kind.get("geboorte") if isinstance(kind, Mapping) else None
        datum = geboorte.get("datum") if isinstance(geboorte, Mapping) else None
        antwoorden.append(is_minderjarig(datum, peildatum))
    return _any_true(antwoorden)


def is_geldig_reisdocument(document: Mapping[str, Any], peildatum: date) -> bool | None:
    """Usable at peildatum: not ingehouden or vermist and not expired; None if the end date is open."""
    if document.get("inhoudingOfVermissing") is not None:
        return False
    bereik = datum_bereik(document.get("datumEindeGeldigheid"))
    if bereik is None:
        return None
    vroegst, laatst = bereik
    if vroegst >= peildatum:
        return True
    if laatst < peildatum:
        return False
    return None


def heeft_geldig_reisdocument(documenten: Sequence[Mapping[str, Any]], peildatum: date) -> bool | None:
    """At least one usable document; no documents at all is a positive no."""
    return _any_true([is_geldig_reisdocument(d, peildatum) for d in documenten])


def reisdocumenten_uitslag(
    documenten: Sequence[Mapping[str, Any]],
    bsn: str,
    peildatum: date,
    in_onderzoek: InOnderzoek = "onbekend",
) -> Uitslag:
    """At least one usable document of ``bsn`` itself, with the houder's signals.

    The houder first (another holder: ``houder_onjuist``; an opgeschorte
    persoonslijst; its BSN in onderzoek), then each document: one with a field
    in onderzoek is open when the check counts onderzoek. No documents is nee.
    """
    telt = in_onderzoek == "onbekend"
    reden = signalen.houders_uitslag(documenten, bsn, telt)
    if reden is not None:
        return reden
    return signalen.een_ja(
        [
            Reden.BRON_IN_ONDERZOEK
            if telt and signalen.document_in_onderzoek(d)
            else signalen.of_ambigu(is_geldig_reisdocument(d, peildatum))
            for d in documenten
        ]
    )


# --------------------------------------------------------------------------- transport


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _unieke_bsns(bsns: Sequence[str] | str) -> list[str]:
    """Deduplicated, in order; a malformed BSN is a programming error, named without its value."""
    if isinstance(bsns, str):
        raise TypeError("expected a sequence of BSNs, not one string")
    for bsn in bsns:
        if not isinstance(bsn, str) or not _BSN_RE.fullmatch(bsn):
            raise ValueError("a burgerservicenummer must be a string of nine digits")
    return list(dict.fromkeys(bsns))


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), if present."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


@dataclass(frozen=True, slots=True)
class _Verzoek:
    """What goes with one logical call besides its query: whom it serves and the headers it carries.

    Without a :class:`~nazorg.sources.trace_context.Spoor` the call gets a trace of its own.
    """

    bsns: tuple[str, ...]
    spoor: Spoor | None = None
    protocollering: Mapping[str, str] = field(default_factory=dict)
    trace_id: str = field(default_factory=nieuwe_trace_id)


class _BodyTooLarge(Exception):
    """A response body (declared or read) exceeds its cap; internal, becomes a SourceError."""


class _HaalCentraalClient:
    """POST a query, retry what is transient, check the response ``type``; all within a deadline.

    Each public call has one deadline (``deadline_s`` from the call, or an
    earlier one the caller passes) that covers everything: connecting, every
    attempt, every backoff sleep and the whole body. Retries and ``Retry-After``
    waits that would not fit in what is left are not made. The body is
    streamed and refused past ``max_body_bytes`` (a declared ``Content-Length``
    is refused before reading anything), so a huge answer never sits in memory.
    A deadline passed is :class:`SourceTimeout` (``bron_timeout``); a body too
    large is a :class:`SourceError` (``bron_fout``, "antwoord te groot").
    """

    _bron: ClassVar[str] = "haal centraal"
    #: default cap of a 200 body; each API sets its own
    default_max_body_bytes: ClassVar[int] = DEFAULT_BRP_PERSONEN_MAX_BYTES

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 5.0,
        max_attempts: int = 3,
        backoff_s: float = 0.2,
        client: httpx.Client | None = None,
        *,
        max_retry_after_s: float = 10.0,
        deadline_s: float = DEFAULT_SOURCE_DEADLINE_S,
        max_body_bytes: int | None = None,
        pool_size: int = 20,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not deadline_s > 0:
            raise ValueError("deadline_s must be greater than 0")
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self._pool_size = pool_size
        self._base_url = base_url.rstrip("/")
        self._timeout_s = timeout
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._max_retry_after_s = max_retry_after_s
        self._deadline_s = deadline_s
        self._max_body_bytes = max_body_bytes or self.default_max_body_bytes
        self._headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            # uncompressed only: a compressed body is decoded in one step per chunk, so a
            # small gzip "bomb" could fill the memory before any cap could refuse it
            "Accept-Encoding": "identity",
        }
        if api_key:
            self._headers["X-API-KEY"] = api_key
        self._owns_client = client is None
        # One pool shared by every thread of this client, each connection kept alive for
        # the next request. Our own client's requests go straight to this transport (see
        # _exchange); a client passed in (tests: a mock transport) is used as it is.
        self._transport: DeadlineTransport | None = None
        if client is None:
            size = max(pool_size, 20)
            self._transport = DeadlineTransport(max_connections=size, max_keepalive_connections=size)
            client = httpx.Client(timeout=httpx.Timeout(timeout), transport=self._transport)
        self._client = client
        self._request_headers = httpx.Headers(self._headers)
        self._entity = entity_uri(self._base_url)
        self._urls: dict[str, httpx.URL] = {}
        self._pauze_tot = 0.0  # monotonic: no request before this (a Retry-After)
        self._pauze_lock = threading.Lock()

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> _HaalCentraalClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _fout(self, **kwargs: Any) -> SourceError:
        """A source error (bron_fout) labelled with this API; kwargs are fixed parts only."""
        return SourceError(bron=self._bron, **kwargs)

    def _deadline(self, outer: Deadline | None) -> Deadline:
        """This call's deadline: ``deadline_s`` from now, or the caller's if that comes first."""
        return Deadline.after(self._deadline_s).earliest(outer)

    def _backoff(self, attempt: int) -> float:
        base = self._backoff_s * 2.0 ** (attempt - 1)
        return base * (1.0 + 0.25 * _JITTER.random())

    def _post(
        self,
        path: str,
        query: Mapping[str, object],
        expected_type: str,
        deadline: Deadline,
        verzoek: _Verzoek | None = None,
    ) -> dict[str, Any]:
        """One logical call: up to ``max_attempts`` HTTP requests, all before ``deadline``."""
        url = self._urls.get(path)
        if url is None:  # parsed once per path: at 50,000 requests the parsing shows
            url = self._urls[path] = httpx.URL(self._base_url + path)
        with deadline_scope(deadline):  # the transport cuts every socket wait to the deadline
            content = json.dumps(query).encode("utf-8")
            return self._attempts(url, content, expected_type, deadline, verzoek or _Verzoek(()))

    def _headers_voor(self, verzoek: _Verzoek) -> tuple[httpx.Headers, ForeignOperation]:
        """This attempt's headers: ours, the protocollering's, a traceparent with a fresh span id."""
        trace_id = verzoek.spoor.trace_id if verzoek.spoor is not None else verzoek.trace_id
        operatie = ForeignOperation(trace_id=trace_id, request_span_id=nieuwe_span_id(), entity=self._entity)
        headers = self._request_headers.copy()
        for naam, waarde in verzoek.protocollering.items():
            headers[naam] = waarde
        headers["traceparent"] = traceparent(operatie.trace_id, operatie.request_span_id)
        if verzoek.spoor is not None:
            verzoek.spoor.vastleggen(verzoek.bsns, operatie)
        return headers, operatie

    @staticmethod
    def _antwoord_spoor(verzoek: _Verzoek, operatie: ForeignOperation, response: httpx.Response) -> None:
        """The processor's own span, when it answered with a traceresponse of our trace."""
        gelezen = lees_traceresponse(response.headers.get("traceresponse"))
        if verzoek.spoor is None or gelezen is None:
            return
        trace_id, span_id = gelezen
        verzoek.spoor.vastleggen(
            verzoek.bsns,
            ForeignOperation(
                trace_id=trace_id,
                request_span_id=operatie.request_span_id,
                entity=operatie.entity,
                span_id=span_id,
            ),
        )

    def _attempts(
        self, url: httpx.URL, content: bytes, expected_type: str, deadline: Deadline, verzoek: _Verzoek
    ) -> dict[str, Any]:
        last: SourceError | None = None
        for attempt in range(1, self._max_attempts + 1):
            pauze = self._pauze_tot - time.monotonic()
            if pauze > 0:  # the source asked everyone to wait (Retry-After)
                if pauze >= deadline.remaining():
                    raise last or SourceTimeout(bron=self._bron)
                time.sleep(pauze)
            left = deadline.remaining()
            if left <= 0:
                raise SourceTimeout(bron=self._bron)
            headers, operatie = self._headers_voor(verzoek)
            try:
                with self._exchange(url, content, min(self._timeout_s, left), headers) as response:
                    self._antwoord_spoor(verzoek, operatie, response)
                    if response.status_code == 200:
                        return self._parse(response, self._body(response, deadline), expected_type)
                    code = self._problem_code(response, deadline)
                    last = self._fout(status=response.status_code, code=code)
                    if response.status_code not in TRANSIENT_STATUS:
                        raise last
                    retry_after = _retry_after(response)
            except httpx.TimeoutException:
                last, retry_after = SourceTimeout(bron=self._bron), None
            except httpx.TransportError:  # refused, reset, broken protocol
                last, retry_after = SourceUnavailable(bron=self._bron), None
            except httpx.RequestError:
                raise self._fout(oorzaak="request mislukt") from None
            delay = (
                self._backoff(attempt) if retry_after is None else min(retry_after, self._max_retry_after_s)
            )
            if retry_after is not None:
                # Retry-After is about this client, not this one request: the other threads
                # of the pool hold their next request until then as well
                with self._pauze_lock:
                    self._pauze_tot = max(self._pauze_tot, time.monotonic() + delay)
            if attempt == self._max_attempts or delay >= deadline.remaining():
                break  # no attempt left, or none that could still finish in time
            if delay > 0:
                time.sleep(delay)
        assert last is not None
        raise last

    @contextmanager
    def _exchange(
        self, url: httpx.URL, content: bytes, timeout_s: float, headers: httpx.Headers
    ) -> Iterator[httpx.Response]:
        """POST ``content``; the response streams until the block ends (then it is closed).

        Our own client's requests skip httpx's client layer (URL merging, cookie
        jar, auth and redirect plumbing: none of it applies, redirects are not
        followed either way) and go straight to its :class:`DeadlineTransport`,
        which maps errors to the same httpx exceptions: at 50,000 Reisdocumenten
        requests that layer cost about a third of the client's CPU time.
        """
        timeout = httpx.Timeout(timeout_s)
        if self._transport is None:
            with self._client.stream(
                "POST", url, content=content, headers=headers, timeout=timeout
            ) as response:
                yield response
            return
        request = httpx.Request(
            "POST",
            url,
            headers=headers,
            content=content,
            extensions={"timeout": timeout.as_dict()},
        )
        response = self._transport.handle_request(request)
        try:
            yield response
        finally:
            response.close()

    def _read_capped(self, response: httpx.Response, limit: int, deadline: Deadline) -> bytes:
        """The raw body in chunks: :class:`_BodyTooLarge` past ``limit``, SourceTimeout past the deadline.

        The transport already ends each read at the deadline; the check between
        chunks also holds for a client without it (tests pass their own).
        """
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            raise _BodyTooLarge
        body = bytearray()
        # iter_bytes, not iter_raw: callers refuse encoded bodies first, so the two are the
        # same bytes, and iter_bytes also serves a response that was read already (tests)
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise _BodyTooLarge
            if deadline.expired():
                raise SourceTimeout(bron=self._bron)
        return bytes(body)

    def _body(self, response: httpx.Response, deadline: Deadline) -> bytes:
        """A 200's body within this API's cap; encoded (compressed) bodies are refused."""
        if response.headers.get("Content-Encoding", "identity").strip().lower() not in ("", "identity"):
            raise self._fout(status=200, oorzaak="onverwachte content-encoding")
        try:
            return self._read_capped(response, self._max_body_bytes, deadline)
        except _BodyTooLarge:
            raise self._fout(status=200, oorzaak="antwoord te groot") from None

    def _problem_code(self, response: httpx.Response, deadline: Deadline) -> str | None:
        """The ``code`` of a problem+json (or JSON) error body; the body itself is dropped."""
        if "json" not in response.headers.get("Content-Type", "").lower():
            return None
        if response.headers.get("Content-Encoding", "identity").strip().lower() not in ("", "identity"):
            return None
        try:
            payload = json.loads(self._read_capped(response, MAX_PROBLEM_BYTES, deadline))
        except (_BodyTooLarge, ValueError, UnicodeDecodeError):
            return None
        return probleem_details(payload)[1]

    def _parse(self, response: httpx.Response, body: bytes, expected_type: str) -> dict[str, Any]:
        """A 200 must be JSON with the ``type`` of our query; anything else is a SourceError."""
        if "json" not in response.headers.get("Content-Type", "").lower():
            raise self._fout(status=200, oorzaak="antwoord is geen JSON")
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise self._fout(status=200, oorzaak="ongeldige JSON") from None
        if not isinstance(payload, dict) or payload.get("type") != expected_type:
            raise self._fout(status=200, oorzaak="onverwacht antwoordtype")
        return payload

    def _lijst(self, payload: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
        """The list under ``key`` (absent means empty); every item must be an object."""
        items = payload.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise self._fout(status=200, oorzaak=f"{key} heeft onverwachte vorm")
        return items


class BrpPersonenClient(_HaalCentraalClient):
    """BRP Personen: RaadpleegMetBurgerservicenummer, at most 20 BSNs per request.

    A call either answers for every chunk or raises SourceError: a partial
    answer is never passed on as complete. Every requested BSN gets an answer.
    """

    _bron = "brp personen"
    # 20 persons with our minimal fields: a woonadres answer is ~150 bytes a person, a
    # kinderen answer ~120 bytes a kind, so even 20 persons with 20 kinderen each stay
    # under 64 KiB. 1 MiB leaves room for gateway additions (inOnderzoek, rni...) and
    # refuses the absurd; see NAZORG_BRP_PERSONEN_MAX_BYTES.
    default_max_body_bytes = DEFAULT_BRP_PERSONEN_MAX_BYTES

    def __enter__(self) -> BrpPersonenClient:
        return self

    def woonadres(
        self,
        bsns: Sequence[str],
        *,
        in_onderzoek: InOnderzoek = "onbekend",
        deadline: Deadline | None = None,
        spoor: Spoor | None = None,
        protocollering: Mapping[str, str] | None = None,
    ) -> dict[str, Antwoord]:
        """BSN -> has a woonadres (functieAdres W); see :func:`woonadres_uitslag`."""
        return self._raadpleeg(
            bsns,
            WOONADRES_FIELDS,
            lambda persoon: woonadres_uitslag(persoon, in_onderzoek),
            deadline,
            spoor,
            protocollering,
        )

    def minderjarige_kinderen(
        self,
        bsns: Sequence[str],
        peildatum: date,
        *,
        in_onderzoek: InOnderzoek = "onbekend",
        deadline: Deadline | None = None,
        spoor: Spoor | None = None,
        protocollering: Mapping[str, str] | None = None,
    ) -> dict[str, Antwoord]:
        """BSN -> has a kind under 18 at peildatum; an incomplete geboortedatum that
        could belong to a minor is onbekend (bron_ambigu); see :func:`kinderen_uitslag`."""
        return self._raadpleeg(
            bsns,
            KINDEREN_FIELDS,
            lambda persoon: kinderen_uitslag(persoon, peildatum, in_onderzoek),
            deadline,
            spoor,
            protocollering,
        )

    def ingeschreven(
        self,
        bsns: Sequence[str],
        *,
        in_onderzoek: InOnderzoek = "onbekend",
        deadline: Deadline | None = None,
        spoor: Spoor | None = None,
        protocollering: Mapping[str, str] | None = None,
    ) -> dict[str, Antwoord]:
        """BSN -> the BRP keeps a persoonslijst for it (ja), or why that is open.

        An existence check for sources that cannot tell an unknown person from
        one without data (Reisdocumenten answers ``[]`` for both). Never nee: a
        BSN the BRP does not return is onbekend, ``persoon_niet_gevonden``; an
        opgeschorte persoonslijst and a BSN in onderzoek are open as in every
        BRP check (:func:`~nazorg.sources.brp_signalen.persoon_uitslag`).
        """
        telt = in_onderzoek == "onbekend"
        return self._raadpleeg(
            bsns,
            BESTAAN_FIELDS,
            lambda persoon: signalen.persoon_uitslag(persoon, True, telt),
            deadline,
            spoor,
            protocollering,
        )

    def _raadpleeg(
        self,
        bsns: Sequence[str],
        velden: Sequence[str],
        beantwoord: Callable[[Mapping[str, Any]], Uitslag],
        deadline: Deadline | None,
        spoor: Spoor | None = None,
        protocollering: Mapping[str, str] | None = None,
    ) -> dict[str, Antwoord]:
        """Ask per chunk of 20, all chunks within one deadline; a BSN the BRP does not
        return is onbekend, persoon_niet_gevonden.

        Several chunks are asked side by side (at most :data:`BRP_MAX_CONCURRENCY`,
        over the shared connection pool): a batch of 1,000 BSNs is 50 requests, and
        one after the other at 20 ms each they would cost a second. Once a chunk
        fails no further chunk is sent, and the first failure (in chunk order) is
        raised: the call still answers for every chunk or for none. Each request is
        recorded in ``spoor`` for the (up to 20) BSNs it served.
        """
        uniek = _unieke_bsns(bsns)
        trace_id = spoor.trace_id if spoor is not None else nieuwe_trace_id()  # one trace per call
        binnen = self._deadline(deadline)
        chunks = list(_chunks(uniek, MAX_BSNS_PER_REQUEST))
        mislukt = threading.Event()

        def vraag(chunk: list[str]) -> dict[str, Uitslag] | None:
            if mislukt.is_set():
                return None  # another chunk failed: the answer is lost anyway
            query = {"type": PERSONEN_TYPE, "burgerservicenummer": chunk, "fields": list(velden)}
            verzoek = _Verzoek(tuple(chunk), spoor, protocollering or {}, trace_id)
            try:
                payload = self._post("/personen", query, PERSONEN_TYPE, binnen, verzoek)
                return self._per_persoon(payload, chunk, beantwoord)
            except BaseException:
                mislukt.set()
                raise

        gevonden: dict[str, Uitslag] = {}
        if len(chunks) <= 1:
            for chunk in chunks:
                gevonden.update(vraag(chunk) or {})
        else:
            workers = min(BRP_MAX_CONCURRENCY, len(chunks))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="brp-personen") as pool:
                futures = [pool.submit(vraag, chunk) for chunk in chunks]
            fouten = [fout for f in futures if (fout := f.exception()) is not None]
            if fouten:
                raise fouten[0]
            for future in futures:
                gevonden.update(future.result() or {})
        return {
            bsn: Antwoord.uit(gevonden[bsn])  # a Reden: left open, and why
            if bsn in gevonden
            else Antwoord.onbekend(Reden.PERSOON_NIET_GEVONDEN)
            for bsn in uniek
        }

    def _per_persoon(
        self,
        payload: Mapping[str, Any],
        gevraagd: Sequence[str],
        beantwoord: Callable[[Mapping[str, Any]], Uitslag],
    ) -> dict[str, Uitslag]:
        """Map each persoon to its answer; a persoon we did not ask for is a SourceError."""
        verwacht = set(gevraagd)
        antwoorden: dict[str, Uitslag] = {}
        for persoon in self._lijst(payload, "personen"):
            bsn = persoon.get("burgerservicenummer")
            if not isinstance(bsn, str) or bsn not in verwacht:
                raise self._fout(status=200, oorzaak="onverwachte persoon")
            antwoord = beantwoord(persoon)
            if bsn in antwoorden and antwoorden[bsn] != antwoord:
                antwoord = Reden.BRON_AMBIGU  # two records that disagree
            antwoorden[bsn] = antwoord
        return antwoorden


class ReisdocumentenClient(_HaalCentraalClient):
    """Reisdocumenten: ZoekMetBurgerservicenummer, one BSN per request (the API's shape)."""

    _bron = "reisdocumenten"
    # one BSN: a person has a handful of reisdocumenten (~160 bytes each with our three
    # fields); 256 KiB would be two thousand of them. See NAZORG_REISDOCUMENTEN_MAX_BYTES.
    default_max_body_bytes = DEFAULT_REISDOCUMENTEN_MAX_BYTES

    def __enter__(self) -> ReisdocumentenClient:
        return self

    def geldig_id(
        self,
        bsn: str,
        peildatum: date,
        *,
        in_onderzoek: InOnderzoek = "onbekend",
        deadline: Deadline | None = None,
        spoor: Spoor | None = None,
        protocollering: Mapping[str, str] | None = None,
    ) -> Antwoord:
        """At least one usable reisdocument at peildatum, for one BSN; raises SourceError.

        Onbekend (bron_ambigu) when an incomplete end date leaves it open and no
        document is clearly valid; the houder's signals come first (see
        :func:`reisdocumenten_uitslag`). An unknown BSN gets an empty list from
        the API, hence nee here, as the API cannot tell it apart from a persoon
        without documents: a nee must be confirmed with BRP Personen
        (:meth:`BrpPersonenClient.ingeschreven`), as the ReisdocumentenAdapter does.
        """
        (bsn,) = _unieke_bsns([bsn])
        query = {
            "type": REISDOCUMENTEN_TYPE,
            "burgerservicenummer": bsn,
            "fields": list(REISDOCUMENT_FIELDS),
        }
        verzoek = _Verzoek((bsn,), spoor, protocollering or {})
        payload = self._post("/reisdocumenten", query, REISDOCUMENTEN_TYPE, self._deadline(deadline), verzoek)
        documenten = self._lijst(payload, "reisdocumenten")
        return Antwoord.uit(reisdocumenten_uitslag(documenten, bsn, peildatum, in_onderzoek))

    def geldig_id_many(
        self,
        bsns: Sequence[str],
        peildatum: date,
        max_concurrency: int | None = None,
        *,
        in_onderzoek: InOnderzoek = "onbekend",
        deadline: Deadline | None = None,
        spoor: Spoor | None = None,
        protocollering: Mapping[str, str] | None = None,
    ) -> dict[str, Antwoord]:
        """``geldig_id`` for many BSNs in parallel over the shared HTTP client.

        At most ``max_concurrency`` (default: the client's ``pool_size``) requests
        are in flight, each on a connection of the one shared pool that stays open
        for the next (HTTP/1.1 keep-alive): 50,000 BSNs cost a handful of TCP
        connections, not 50,000. A ``429`` is retried after its ``Retry-After``
        when that still fits in the deadline (see :class:`_HaalCentraalClient`).
        A failure for one BSN is that BSN's answer (onbekend with the error's
        reden) instead of failing the others; other exceptions (bugs) propagate.
        One BSN is asked directly, without a thread pool. All BSNs share one
        deadline: a request still queued when it has passed is not sent, and
        its BSN is onbekend (bron_timeout).
        """
        uniek = _unieke_bsns(bsns)
        binnen = self._deadline(deadline)
        spoor = spoor if spoor is not None else Spoor()  # one trace per call, as BRP Personen
        extra = protocollering or {}
        if len(uniek) <= 1:
            return {
                bsn: self._geldig_id_of_onbekend(bsn, peildatum, in_onderzoek, binnen, spoor, extra)
                for bsn in uniek
            }
        workers = max(1, min(max_concurrency or self._pool_size, len(uniek)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reisdocumenten") as pool:
            futures = {
                bsn: pool.submit(
                    self._geldig_id_of_onbekend, bsn, peildatum, in_onderzoek, binnen, spoor, extra
                )
                for bsn in uniek
            }
            return {bsn: future.result() for bsn, future in futures.items()}

    def _geldig_id_of_onbekend(
        self,
        bsn: str,
        peildatum: date,
        in_onderzoek: InOnderzoek,
        deadline: Deadline,
        spoor: Spoor,
        protocollering: Mapping[str, str],
    ) -> Antwoord:
        try:
            return self.geldig_id(
                bsn,
                peildatum,
                in_onderzoek=in_onderzoek,
                deadline=deadline,
                spoor=spoor,
                protocollering=protocollering,
            )
        except SourceError as fout:
            return Antwoord.onbekend(fout.reden)

"""The source kinds nazorg ships: the melding itself, gemeentelijke SQL, BRP Personen, Reisdocumenten.

Each class is the whole difference between its kind and the others: where the
answer comes from, which bronvragen it can answer, and which besluit settings
it needs. Connections are resolved by id (``AIRFLOW_CONN_*`` or Airflow's
store), so a real endpoint is a connection change, nothing more.
"""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from nazorg.models import Reden
from nazorg.sources.answer import Antwoord
from nazorg.sources.brp_signalen import InOnderzoek
from nazorg.sources.errors import SourceError
from nazorg.sources.haal_centraal import BrpPersonenClient, ReisdocumentenClient, protocollering_headers
from nazorg.sources.kinds import BsnAdapter, SourceAdapter, Vraag, register_adapter

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.engine import Engine

    from nazorg.checks import Geval
    from nazorg.register import BesluitCheck, Lookup, RegisterEntry
    from nazorg.settings import Settings


@register_adapter
class MeldingAdapter(SourceAdapter):
    """The answer travels in the melding itself (DJI/PI's ja/nee-bericht); nothing is asked."""

    kind = "melding"
    bronvragen = frozenset({"reclassering_betrokken"})

    @staticmethod
    def _veld(vraag: Vraag, geval: Geval) -> str | None:
        if vraag.entry.bronvraag == "reclassering_betrokken":
            return geval.reclassering_betrokken
        raise LookupError(f"bron melding kent bronvraag {vraag.entry.bronvraag} niet")

    def answer(self, vraag: Vraag, gevallen: Sequence[Geval]) -> dict[str, Antwoord]:
        antwoorden = {}
        for g in gevallen:
            waarde = self._veld(vraag, g)
            if waarde in ("ja", "nee"):
                antwoorden[g.melding_id] = Antwoord(waarde == "ja")
            else:  # absent or anything else: the melding does not say
                antwoorden[g.melding_id] = Antwoord.onbekend(Reden.NIET_IN_MELDING)
        return antwoorden

    @classmethod
    def besluit_problems(cls, where: str, check_id: str, chosen: BesluitCheck, sql_root: Path) -> list[str]:
        if chosen.lookup or chosen.verbinding:
            return [f"{where}: {check_id} komt uit de melding; geen bron instellen"]
        return []


@register_adapter
class SqlLookupAdapter(BsnAdapter):
    """A gemeentelijk system answers (bsn, bekend, dossierverantwoordelijke) to the besluit's query.

    The question is the query file the besluit names, so the kind takes no
    bronvraag; as ``aanvullende_bron`` it supplies the contact of a person it knows.
    """

    kind = "gemeentelijk_sql"
    levert_contact = True

    def __init__(self, config: Settings) -> None:
        super().__init__(config)
        self._queries: dict[str, str] = {}
        self._goedgekeurd: set[tuple[str, str]] = set()

    def answer_bsns(self, vraag: Vraag, bsns: Sequence[str]) -> dict[str, Antwoord]:
        from nazorg.sources.sql_lookup import run_lookup
        from nazorg.store import engine_for

        lookup = vraag.besluit.lookup
        if lookup is None:  # refused by the register check; never guess a query
            raise LookupError(f"{vraag.entry.id}: besluit noemt geen lookup")
        engine = engine_for(lookup.verbinding)
        return run_lookup(
            engine,
            self._goedgekeurd_query(vraag.entry.id, lookup, engine),
            bsns,
            deadline=self.deadline(),
            max_rows_per_bsn=self.config.sql_max_rows_per_bsn,
        )

    def _query(self, name: str) -> str:
        if name not in self._queries:
            self._queries[name] = (self.config.sql_dir / name).read_text(encoding="utf-8")
        return self._queries[name]

    def _goedgekeurd_query(self, check_id: str, lookup: Lookup, engine: Engine) -> str:
        """The lookup's SQL once it passed the lint for this connection's dialect.

        The file may have changed since the register check, and the dialect is
        known only now: :class:`~nazorg.sources.lookup_lint.LookupOngeldig` before it runs.
        """
        from nazorg.sources.lookup_lint import keur_goed

        sql = self._query(lookup.query)
        if (lookup.verbinding, lookup.query) not in self._goedgekeurd:
            keur_goed(check_id, lookup, sql, engine)
            self._goedgekeurd.add((lookup.verbinding, lookup.query))
        return sql

    def toets(self, vraag: Vraag) -> None:
        """The besluit's query for nobody: linted first, then the columns must be the agreed three."""
        from nazorg.sources.sql_lookup import probe_lookup
        from nazorg.store import engine_for

        lookup = vraag.besluit.lookup
        if lookup is None:
            raise LookupError(f"{vraag.entry.id}: besluit noemt geen lookup")
        engine = engine_for(lookup.verbinding)
        probe_lookup(engine, self._goedgekeurd_query(vraag.entry.id, lookup, engine))

    @classmethod
    def besluit_problems(cls, where: str, check_id: str, chosen: BesluitCheck, sql_root: Path) -> list[str]:
        from nazorg.sources.lookup_lint import DIALECTEN, is_pipeline_verbinding, lint_dialecten

        lookup = chosen.lookup
        if lookup is None:
            return [f"{where}: {check_id} mist lookup (verbinding + query)"]
        if not (sql_root / lookup.query).is_file():
            return [f"{where}: {check_id} verwijst naar onbekende query {lookup.query}"]
        problems = []
        if is_pipeline_verbinding(lookup.verbinding):
            problems.append(
                f"{where}: {check_id}: lookup via de pipeline-DB ({lookup.verbinding}) is verboden"
            )
        sql = (sql_root / lookup.query).read_text(encoding="utf-8")
        dialecten = [lookup.dialect] if lookup.dialect else list(DIALECTEN)
        problems += [f"{where}: {check_id}: {lookup.query}: {p}" for p in lint_dialecten(sql, dialecten)]
        return problems


def _in_onderzoek(vraag: Vraag) -> InOnderzoek:
    """The entry's rule; an entry without one is refused by ``register check``, so onbekend is a fallback."""
    return vraag.entry.in_onderzoek or "onbekend"


def doelbinding(entry: RegisterEntry) -> str:
    """The ``x-doelbinding`` of a check: the register entry's ``doelbinding`` code, else its id.

    Which codes a BRP API gateway accepts (e.g. an activity of the gemeente's BRP
    autorisatie) is agreed with the gateway's supplier; a register without the
    field sends the check id, which names the purpose in this register. Read
    with a default: the field is optional (and a register of before it has none).
    """
    code = getattr(entry, "doelbinding", None)
    return code if isinstance(code, str) and code else entry.id


def protocollering(vraag: Vraag, gebruiker: str) -> dict[str, str]:
    """The BRP gateway's protocollering headers for this question (none without a gemeente's OIN).

    ``x-verwerking`` is the processing activity's URI (register entry and version),
    the same value as the processing-log record's ``processing_activity_id``;
    ``x-origin-oin`` the besluit's gemeente; ``x-gebruiker`` this system
    (``NAZORG_BRP_GEBRUIKER``). No personal data: no BSN, no name, no outcome.
    """
    if vraag.gemeente_oin is None:
        return {}
    return protocollering_headers(
        doelbinding=doelbinding(vraag.entry),
        verwerking=vraag.entry.processing_activity_id,
        oin=vraag.gemeente_oin,
        gebruiker=gebruiker,
    )


class _Closable(Protocol):
    def close(self) -> None: ...


_C = TypeVar("_C", bound=_Closable)


class _HaalCentraalAdapter(BsnAdapter, Generic[_C]):
    """Shared by the Haal Centraal kinds: one client per connection, closed with the task.

    Both APIs mark fields "in onderzoek"; the register entry's ``in_onderzoek``
    says what that means for the check, and ``register check`` refuses an entry without it.
    """

    leest_onderzoek = True

    def __init__(self, config: Settings, *, http: httpx.Client | None = None) -> None:
        super().__init__(config)
        self._http = http  # tests pass a client with a mock transport
        self._clients: dict[str, _C] = {}

    @abstractmethod
    def _new_client(self, base_url: str, api_key: str | None, http: httpx.Client | None) -> _C: ...

    def _client(self, vraag: Vraag) -> _C:
        from nazorg.connections import get_connection

        verbinding = vraag.besluit.verbinding
        if not verbinding:  # refused by the register check; never guess an endpoint
            raise LookupError(f"{vraag.entry.id}: besluit noemt geen verbinding")
        if verbinding not in self._clients:
            info = get_connection(verbinding)
            self._clients[verbinding] = self._new_client(info.base_url(), info.password or None, self._http)
        return self._clients[verbinding]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def toets(self, vraag: Vraag) -> None:
        """The connection must resolve; nothing person-independent can be asked of the API."""
        self._client(vraag)

    @classmethod
    def besluit_problems(cls, where: str, check_id: str, chosen: BesluitCheck, sql_root: Path) -> list[str]:
        if not chosen.verbinding:
            return [f"{where}: {check_id} mist verbinding voor bron {cls.kind}"]
        return []


@register_adapter
class BrpPersonenAdapter(_HaalCentraalAdapter[BrpPersonenClient]):
    """BRP Personen bevragen: 20 BSNs per request, minimal ``fields`` per bronvraag."""

    kind = "haal_centraal_brp_personen"
    bronvragen = frozenset({"woonadres", "minderjarige_kinderen"})

    def _new_client(self, base_url: str, api_key: str | None, http: httpx.Client | None) -> BrpPersonenClient:
        return BrpPersonenClient(
            base_url,
            api_key,
            client=http,
            deadline_s=self.config.source_deadline_s,
            max_body_bytes=self.config.brp_personen_max_bytes,
        )

    def answer_bsns(self, vraag: Vraag, bsns: Sequence[str]) -> dict[str, Antwoord]:
        client = self._client(vraag)
        onderzoek = _in_onderzoek(vraag)
        headers = protocollering(vraag, self.config.brp_gebruiker)
        if vraag.entry.bronvraag == "woonadres":
            return client.woonadres(
                bsns,
                in_onderzoek=onderzoek,
                deadline=self.deadline(),
                spoor=vraag.spoor,
                protocollering=headers,
            )
        if vraag.entry.bronvraag == "minderjarige_kinderen":
            return client.minderjarige_kinderen(
                bsns,
                vraag.peildatum,
                in_onderzoek=onderzoek,
                deadline=self.deadline(),
                spoor=vraag.spoor,
                protocollering=headers,
            )
        raise LookupError(f"bron {self.kind} kent bronvraag {vraag.entry.bronvraag} niet")


@register_adapter
class ReisdocumentenAdapter(_HaalCentraalAdapter[ReisdocumentenClient]):
    """Reisdocumenten bevragen: one BSN per request (the API's shape), asked concurrently.

    Reisdocumenten answers an empty list both for a persoon without documents and
    for a BSN the BRP does not know, so a nee from it alone could be an error
    reported as nee. Every nee is therefore confirmed with BRP Personen (the
    besluit's ``brp_verbinding``), 20 BSNs a request and only for the BSNs that
    got nee: a BSN the BRP does not return is onbekend (``persoon_niet_gevonden``),
    an opgeschorte persoonslijst or a BSN in onderzoek is open as in every BRP
    check, and a BRP that cannot answer leaves those BSNs onbekend with its reden.
    """

    kind = "haal_centraal_reisdocumenten"
    bronvragen = frozenset({"geldig_reisdocument"})
    bevestigt_in_brp = True

    def __init__(self, config: Settings, *, http: httpx.Client | None = None) -> None:
        super().__init__(config, http=http)
        self._brp = BrpPersonenAdapter(config, http=http)

    def _new_client(
        self, base_url: str, api_key: str | None, http: httpx.Client | None
    ) -> ReisdocumentenClient:
        return ReisdocumentenClient(
            base_url,
            api_key,
            client=http,
            deadline_s=self.config.source_deadline_s,
            max_body_bytes=self.config.reisdocumenten_max_bytes,
            pool_size=self.config.reisdocumenten_concurrency,
        )

    def _brp_vraag(self, vraag: Vraag) -> Vraag:
        """The same question with the besluit's BRP Personen connection as its verbinding."""
        if not vraag.besluit.brp_verbinding:  # refused by the register check; never guess
            raise LookupError(f"{vraag.entry.id}: besluit noemt geen brp_verbinding")
        besluit = vraag.besluit.model_copy(update={"verbinding": vraag.besluit.brp_verbinding})
        return dataclasses.replace(vraag, besluit=besluit)

    def answer_bsns(self, vraag: Vraag, bsns: Sequence[str]) -> dict[str, Antwoord]:
        if vraag.entry.bronvraag != "geldig_reisdocument":
            raise LookupError(f"bron {self.kind} kent bronvraag {vraag.entry.bronvraag} niet")
        brp_vraag = self._brp_vraag(vraag)  # before any request: a missing setting asks nobody
        deadline = self.deadline()  # one question: both APIs within the same deadline
        onderzoek = _in_onderzoek(vraag)
        headers = protocollering(vraag, self.config.brp_gebruiker)  # the same check: the same headers
        antwoorden = self._client(vraag).geldig_id_many(
            bsns,
            vraag.peildatum,
            max_concurrency=self.config.reisdocumenten_concurrency,
            in_onderzoek=onderzoek,
            deadline=deadline,
            spoor=vraag.spoor,
            protocollering=headers,
        )
        nee = [bsn for bsn, antwoord in antwoorden.items() if antwoord.bekend is False]
        if not nee:
            return antwoorden
        try:
            ingeschreven = self._brp._client(brp_vraag).ingeschreven(
                nee, in_onderzoek=onderzoek, deadline=deadline, spoor=vraag.spoor, protocollering=headers
            )
        except SourceError as fout:  # the nee cannot be confirmed: open, never nee
            return antwoorden | {bsn: Antwoord.onbekend(fout.reden) for bsn in nee}
        # ingeschreven is ja or open; open (not found, opgeschort, in onderzoek) wins over the nee
        return antwoorden | {bsn: ingeschreven[bsn] for bsn in nee if ingeschreven[bsn].bekend is None}

    def close(self) -> None:
        super().close()
        self._brp.close()

    def toets(self, vraag: Vraag) -> None:
        """Both connections must resolve."""
        super().toets(vraag)
        self._brp.toets(self._brp_vraag(vraag))

    @classmethod
    def besluit_problems(cls, where: str, check_id: str, chosen: BesluitCheck, sql_root: Path) -> list[str]:
        problems = super().besluit_problems(where, check_id, chosen, sql_root)
        if not chosen.brp_verbinding:
            problems.append(
                f"{where}: {check_id} mist brp_verbinding (BRP Personen bevestigt een nee van {cls.kind})"
            )
        return problems

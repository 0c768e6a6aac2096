"""Laatstedagsmelding: the end of detention, its intake and the notifications it calls for.

The PI reports the last day of detention for a melding it sent earlier. Intake
(``nazorg laatstedagsmelding dien-in FILE``) decodes the file with the same
hostile-input machinery as the eerstedagsmelding (:func:`nazorg.intake.decode`:
size, depth, encoding, duplicate keys, one record never spoils another) and
refuses a record with reason codes in quarantine (fase ``intake``), never
silently. What it adds is the tie to the inbox: the melding must be there and
the BSN must be the inbox's (``melding_onbekend``, ``bsn_ongelijk``).

The BSN is only compared, never stored: ``laatstedagsmelding`` holds the melding
id, the date and the optional gemeente van hervestiging, and its content hash
covers just those (a hash over a BSN could be reversed by enumerating BSNs).

:func:`verwerk` (the scheduled DAG's first task) notifies, for every
``ontvangen`` laatstedagsmelding whose melding is published, the team of every
check that answered ``ja`` (one message per team, whatever the number of its
checks), then marks it ``verwerkt``. With a gemeente van hervestiging other
than the gemeente van herkomst, the contact for a check is the hervestiging
gemeente's default team for it (its besluit's ``dossierverantwoordelijke``):
that gemeente will do the work, and its besluit is where its teams are listed.
A check the hervestiging gemeente does not perform stays with the herkomst
team (it holds the dossier and can hand over), so no ja is left without a team.

:func:`inseinen` (the second task) tells a besluit's ``regievoerder`` once about
every published melding whose ``doelgroep_topx`` answered ``ja``.

What a run reports (log, XCom) are counts of laatstedagsmeldingen, never of
notifications: with one melding, the number of teams told is the number of its
ja answers. Nothing here fails a run for an outcome: a failed send is recorded
and tried again next run, up to ``NAZORG_NOTIFICATIE_MAX_POGINGEN``, then given
up and quarantined (fase ``publiceer``, herkomst ``notificatie``).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nazorg.intake import (
    MAX_AGE_DAYS,
    MELDING_ID,
    Afwijzing,
    Geweigerd,
    grootte_afwijzing,
    herkomst_voor,
    schema_afwijzingen,
    veilig_melding_id,
)
from nazorg.models import (
    Fase,
    LaatstedagStatus,
    MeldingStatus,
    NotificatieSoort,
    NotificatieStatus,
    Uitkomst,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from nazorg.notificatie import Notifier
    from nazorg.register import Besluit, Policy, Team
    from nazorg.store import Store

TOPX_CHECK = "doelgroep_topx"
BATCH = 500


class Laatstedagsmelding(BaseModel):
    """The documented input schema (README, "Laatstedagsmelding input")."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    melding_id: str = Field(pattern=MELDING_ID.pattern)
    #: 9 digits, or 8 (a BSN issued with a leading zero, written without it): compared as 9
    bsn: str = Field(pattern=r"^[0-9]{8,9}$")
    datum_uitstroom: date = Field(strict=False)
    gemeente_hervestiging: str | None = Field(default=None, pattern=r"^[0-9]{4}$")

    @property
    def bsn_canoniek(self) -> str:
        return self.bsn.zfill(9)

    def inhoud_hash(self) -> str:
        """What "the same laatstedagsmelding" means: everything but the BSN (checked, never kept)."""
        data = self.model_dump(mode="json", exclude={"bsn"})
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


VELDEN = frozenset(Laatstedagsmelding.model_fields)


@dataclass(frozen=True, slots=True)
class Beoordeling:
    herkomst: str
    melding: Laatstedagsmelding | None
    afwijzingen: tuple[Afwijzing, ...]
    melding_id: str | None


def beoordeel(raw: object, herkomst: str, gemeenten: Iterable[str], vandaag: date) -> Beoordeling:
    """Schema and the rules that need no database; the inbox rules follow in :func:`dien_in`."""
    if isinstance(raw, Geweigerd):
        return Beoordeling(herkomst, None, (Afwijzing(raw.code),), None)
    if not isinstance(raw, dict):
        return Beoordeling(herkomst, None, (Afwijzing("geen_object"),), None)
    melding_id = veilig_melding_id(raw)
    if (te_groot := grootte_afwijzing(raw)) is not None:
        return Beoordeling(herkomst, None, (te_groot,), melding_id)
    try:
        melding = Laatstedagsmelding.model_validate(raw)
    except ValidationError as exc:
        return Beoordeling(herkomst, None, schema_afwijzingen(exc, VELDEN), melding_id)
    from nazorg.bsn import is_valid_bsn

    problems: list[Afwijzing] = []
    if melding_id is None:  # the schema passed, so only a BSN-like digit run is left
        problems.append(Afwijzing("melding_id_cijferreeks", "melding_id"))
    if not is_valid_bsn(melding.bsn_canoniek):
        problems.append(Afwijzing("bsn_elfproef", "bsn"))
    if melding.gemeente_hervestiging is not None and melding.gemeente_hervestiging not in set(gemeenten):
        problems.append(Afwijzing("gemeente_onbekend", "gemeente_hervestiging"))
    if melding.datum_uitstroom > vandaag:
        problems.append(Afwijzing("datum_in_toekomst", "datum_uitstroom"))
    if melding.datum_uitstroom < vandaag - timedelta(days=MAX_AGE_DAYS):
        problems.append(Afwijzing("datum_te_oud", "datum_uitstroom"))
    if problems:
        return Beoordeling(herkomst, None, tuple(problems), melding_id)
    return Beoordeling(herkomst, melding, (), melding.melding_id)


def beoordeel_alle(
    records: Iterable[tuple[str, object]], gemeenten: Iterable[str], vandaag: date
) -> Iterator[Beoordeling]:
    """Judge records lazily; a bug in one never loses the ones after it, nor prints their values."""
    known = set(gemeenten)
    for herkomst, raw in records:
        try:
            yield beoordeel(raw, herkomst, known, vandaag)
        except Exception:
            yield Beoordeling(herkomst, None, (Afwijzing("intern_fout"),), None)


Resultaat = Literal["opgeslagen", "al_aanwezig", "conflict", "quarantaine"]


@dataclass(frozen=True, slots=True)
class Inzendingsresultaat:
    """What one submission did; counts records, never values."""

    inzending: str
    aantallen: Counter[Resultaat] = field(default_factory=Counter)
    boven_limiet: int = 0
    #: refusals per (veld, reden_code), also those found against the inbox: bounded by the
    #: closed vocabularies, whatever the file's size (the intake API lists them in its 400)
    afwijzingen: Counter[tuple[str | None, str]] = field(default_factory=Counter)

    @property
    def totaal(self) -> int:
        return sum(self.aantallen.values())


def _tegen_inbox(store: Store, melding: Laatstedagsmelding, conn: Connection) -> tuple[Afwijzing, ...]:
    """The rules that need the inbox: the melding exists, its BSN is this one, it entered before it left."""
    rows = store.query("laatstedag/inbox_melding", {"melding_id": melding.melding_id}, conn=conn)
    if not rows:
        return (Afwijzing("melding_onbekend", "melding_id"),)
    inbox = rows[0]
    if str(inbox["bsn"]) != melding.bsn_canoniek:
        return (Afwijzing("bsn_ongelijk", "bsn"),)
    if melding.datum_uitstroom < date.fromisoformat(str(inbox["datum_binnenkomst"])):
        return (Afwijzing("uitstroom_voor_binnenkomst", "datum_uitstroom"),)
    return ()


def dien_in(
    store: Store,
    beoordelingen: Iterable[Beoordeling],
    *,
    inzending: str,
    nu: Callable[[], str] | None = None,
    max_rijen: int | None = None,
) -> Inzendingsresultaat:
    """Store every valid laatstedagsmelding once; quarantine every refusal with its reason codes.

    Same id and content again: ``al_aanwezig``, nothing written. Same id, other
    content: ``laatstedag_conflict`` in quarantine, the first one stands. The
    quarantine row limit per submission is the eerstedagsmelding's.
    """
    from nazorg.inbox import MAX_QUARANTAINE_RIJEN, _Limiet, quarantaine
    from nazorg.store import now

    klok = nu or now
    limiet = _Limiet(MAX_QUARANTAINE_RIJEN if max_rijen is None else max_rijen)
    aantallen: Counter[Resultaat] = Counter()
    geweigerd: Counter[tuple[str | None, str]] = Counter()
    pending = iter(beoordelingen)
    while batch := list(islice(pending, BATCH)):
        with store.transaction() as conn:
            for beoordeling in batch:
                melding = beoordeling.melding
                afwijzingen = beoordeling.afwijzingen
                if melding is not None:
                    afwijzingen = _tegen_inbox(store, melding, conn)
                resultaat: Resultaat = "quarantaine"
                if melding is not None and not afwijzingen:
                    resultaat = _sla_op(store, melding, conn, klok)
                    if resultaat == "conflict":
                        afwijzingen = (Afwijzing("laatstedag_conflict", "melding_id"),)
                aantallen[resultaat] += 1
                geweigerd.update((a.veld, a.reden_code) for a in afwijzingen)
                if afwijzingen and limiet.past(len(afwijzingen)):
                    for afwijzing in afwijzingen:
                        quarantaine(
                            store,
                            melding_id=beoordeling.melding_id,
                            herkomst=beoordeling.herkomst,
                            fase=Fase.INTAKE,
                            reden_code=afwijzing.reden_code,
                            veld=afwijzing.veld,
                            conn=conn,
                        )
    if limiet.boven:
        quarantaine(
            store,
            melding_id=None,
            herkomst=herkomst_voor(inzending),
            fase=Fase.INTAKE,
            reden_code="quarantaine_limiet",
            veld=f"<aantal:{limiet.boven}>",
        )
    return Inzendingsresultaat(inzending, aantallen, limiet.boven, geweigerd)


def _sla_op(
    store: Store, melding: Laatstedagsmelding, conn: Connection, klok: Callable[[], str]
) -> Resultaat:
    """Insert, then read back: a row with our hash that we inserted is ours, another hash a conflict."""
    digest = melding.inhoud_hash()
    inserted = store.execute(
        "laatstedag/laatstedag_insert",
        {
            "melding_id": melding.melding_id,
            "datum_uitstroom": melding.datum_uitstroom.isoformat(),
            "gemeente_hervestiging": melding.gemeente_hervestiging,
            "inhoud_hash": digest,
            "nu": klok(),
            "status": LaatstedagStatus.ONTVANGEN.value,
        },
        conn=conn,
    )
    if inserted:
        return "opgeslagen"
    rows = store.query("laatstedag/laatstedag_get", {"melding_id": melding.melding_id}, conn=conn)
    if rows and rows[0]["inhoud_hash"] == digest:
        return "al_aanwezig"
    return "conflict"


# --- processing: who is told ----------------------------------------------------------------


class TeamOnbekend(LookupError):
    """A ja names a team its gemeente's besluit no longer lists, nor a default for the check."""


@dataclass(frozen=True, slots=True)
class Ontvanger:
    """A team to notify, with the gemeente whose besluit lists it."""

    gemeente_code: str
    team: Team


def _team_voor(besluit: Besluit, check_id: str, contact: str | None) -> Team | None:
    """The herkomst team for a ja: the team the outcome names (its published name), else the default."""
    for team in besluit.teams:
        if contact is not None and contact in (team.naam, team.id):
            return team
    chosen = besluit.checks.get(check_id)
    return besluit.team(chosen.dossierverantwoordelijke) if chosen is not None else None


def ontvangers(
    policy: Policy,
    gemeente_herkomst: str,
    gemeente_hervestiging: str | None,
    ja: Iterable[tuple[str, str | None]],
) -> list[Ontvanger]:
    """Every team to tell about the ja answers ``(check_id, dossierverantwoordelijke)``: each once.

    See the module for the hervestiging rule. Raises :class:`TeamOnbekend` when a
    ja can be routed to no team (the besluit changed under a published melding).
    """
    herkomst = policy.besluit(gemeente_herkomst)
    elders = None
    if gemeente_hervestiging is not None and gemeente_hervestiging != gemeente_herkomst:
        elders = policy.besluit(gemeente_hervestiging)
    gevonden: dict[tuple[str, str], Ontvanger] = {}
    for check_id, contact in ja:
        ontvanger: Ontvanger | None = None
        if elders is not None and check_id in elders.checks:
            team = elders.team(elders.checks[check_id].dossierverantwoordelijke)
            ontvanger = Ontvanger(elders.gemeente_code, team) if team is not None else None
        if ontvanger is None:
            team = _team_voor(herkomst, check_id, contact)
            if team is None:
                raise TeamOnbekend("team_onbekend")
            ontvanger = Ontvanger(herkomst.gemeente_code, team)
        gevonden.setdefault((ontvanger.gemeente_code, ontvanger.team.id), ontvanger)
    return sorted(gevonden.values(), key=lambda o: (o.gemeente_code, o.team.id))


@dataclass
class Telling:
    """Counts of laatstedagsmeldingen (never of notifications or outcomes): safe for logs and XCom."""

    verwerkt: int = 0
    wachtend: int = 0  # melding not yet published, or a send to retry next run
    mislukt: int = 0

    def voor_xcom(self) -> dict[str, int]:
        return {"verwerkt": self.verwerkt, "wachtend": self.wachtend, "mislukt": self.mislukt}


Afloop = Literal["verzonden", "wachtend", "opgegeven"]


def _meld(
    store: Store,
    notifier: Notifier,
    policy: Policy,
    *,
    soort: NotificatieSoort,
    melding_id: str,
    datum: date,
    ontvanger: Ontvanger,
    gemeente_herkomst: str,
    max_pogingen: int,
    nu: Callable[[], str],
) -> Afloop:
    """Send one notification unless it was sent or given up; what became of it."""
    from nazorg.notificatie import stand, verstuur

    voor = stand(store, melding_id, soort, ontvanger.gemeente_code, ontvanger.team.id)
    if voor.verzonden:
        return "verzonden"
    if voor.mislukt >= max_pogingen:
        return "opgegeven"
    status = verstuur(
        store,
        notifier,
        soort=soort,
        melding_id=melding_id,
        datum=datum,
        team=ontvanger.team,
        gemeente_code=ontvanger.gemeente_code,
        gemeente_naam=policy.besluit(gemeente_herkomst).gemeente_naam,
        nu=nu,
    )
    if status is NotificatieStatus.VERZONDEN:
        return "verzonden"
    return "opgegeven" if voor.mislukt + 1 >= max_pogingen else "wachtend"


def _sluit(store: Store, melding_id: str, status: LaatstedagStatus) -> None:
    store.execute(
        "laatstedag/laatstedag_status",
        {"melding_id": melding_id, "status": status.value, "ontvangen": LaatstedagStatus.ONTVANGEN.value},
    )


def _quarantaine(store: Store, melding_id: str, reden_code: str, herkomst: str) -> None:
    from nazorg.inbox import quarantaine

    quarantaine(store, melding_id=melding_id, herkomst=herkomst, fase=Fase.PUBLICEER, reden_code=reden_code)


_WACHT = frozenset(
    {MeldingStatus.ONTVANGEN.value, MeldingStatus.IN_BEHANDELING.value, MeldingStatus.MISLUKT.value}
)


def verwerk(
    store: Store,
    policy: Policy,
    notifier: Notifier,
    *,
    max_pogingen: int,
    nu: Callable[[], str],
) -> Telling:
    """Notify for every ``ontvangen`` laatstedagsmelding whose melding is published; settle it.

    A melding still in the pipeline (or ``mislukt``, which a new run may take up)
    waits for a later run. A ``geblokkeerd`` melding has no outcomes (purged):
    nobody is told, it is ``verwerkt``. Once every team is told it is
    ``verwerkt``; a send given up after ``max_pogingen`` attempts makes it
    ``mislukt`` with a quarantine row (``notificatie_mislukt``); teams told stay told.
    """
    telling = Telling()
    open_rows = store.query("laatstedag/laatstedag_open", {"ontvangen": LaatstedagStatus.ONTVANGEN.value})
    for row in open_rows:
        melding_id = str(row["melding_id"])
        inbox = store.query("laatstedag/inbox_melding", {"melding_id": melding_id})
        inbox_status = str(inbox[0]["status"]) if inbox else MeldingStatus.GEBLOKKEERD.value
        if inbox_status in _WACHT:
            telling.wachtend += 1
            continue
        if inbox_status != MeldingStatus.GEPUBLICEERD.value:  # geblokkeerd: nothing to tell
            _sluit(store, melding_id, LaatstedagStatus.VERWERKT)
            telling.verwerkt += 1
            continue
        herkomst = str(inbox[0]["gemeente_code"])
        ja = [
            (str(u["check_id"]), u["dossierverantwoordelijke"])
            for u in store.query(
                "laatstedag/ja_uitkomsten", {"melding_id": melding_id, "ja": Uitkomst.JA.value}
            )
        ]
        try:
            teams = ontvangers(policy, herkomst, row["gemeente_hervestiging"], ja)
        except (TeamOnbekend, LookupError, ValueError):
            _quarantaine(store, melding_id, "team_onbekend", "laatstedagsmelding")
            _sluit(store, melding_id, LaatstedagStatus.MISLUKT)
            telling.mislukt += 1
            continue
        afloop = [
            _meld(
                store,
                notifier,
                policy,
                soort=NotificatieSoort.LAATSTEDAGSMELDING,
                melding_id=melding_id,
                datum=date.fromisoformat(str(row["datum_uitstroom"])),
                ontvanger=ontvanger,
                gemeente_herkomst=herkomst,
                max_pogingen=max_pogingen,
                nu=nu,
            )
            for ontvanger in teams
        ]
        if "wachtend" in afloop:
            telling.wachtend += 1
        elif "opgegeven" in afloop:
            _quarantaine(store, melding_id, "notificatie_mislukt", "laatstedagsmelding")
            _sluit(store, melding_id, LaatstedagStatus.MISLUKT)
            telling.mislukt += 1
        else:
            _sluit(store, melding_id, LaatstedagStatus.VERWERKT)
            telling.verwerkt += 1
    return telling


def inseinen(
    store: Store,
    policy: Policy,
    notifier: Notifier,
    *,
    max_pogingen: int,
    nu: Callable[[], str],
) -> None:
    """Tell each besluit's regievoerder once about every published melding whose doelgroep_topx is ja.

    Returns nothing, and its caller logs no count: every notification here is a ja.
    """
    from nazorg.models import MeldingStatus as MS

    regie = {code: b for code, b in policy.besluiten.items() if b.regievoerder is not None}
    if not regie:
        return
    kandidaten = store.query(
        "laatstedag/inseinen_kandidaten",
        {
            "gepubliceerd": MS.GEPUBLICEERD.value,
            "gemeenten": sorted(regie),
            "check_id": TOPX_CHECK,
            "ja": Uitkomst.JA.value,
            "soort": NotificatieSoort.INSEINEN.value,
            "verzonden": NotificatieStatus.VERZONDEN.value,
            "mislukt": NotificatieStatus.MISLUKT.value,
            "max_pogingen": max_pogingen,
        },
    )
    for row in kandidaten:
        code = str(row["gemeente_code"])
        besluit = regie[code]
        team = besluit.team(besluit.regievoerder or "")
        if team is None:  # unreachable for a validated besluit
            continue
        afloop = _meld(
            store,
            notifier,
            policy,
            soort=NotificatieSoort.INSEINEN,
            melding_id=str(row["melding_id"]),
            datum=date.fromisoformat(str(row["datum_binnenkomst"])),
            ontvanger=Ontvanger(code, team),
            gemeente_herkomst=code,
            max_pogingen=max_pogingen,
            nu=nu,
        )
        if afloop == "opgegeven":
            _quarantaine(store, str(row["melding_id"]), "notificatie_mislukt", "inseinen")

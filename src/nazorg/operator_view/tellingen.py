"""The operator's counts, aggregated in SQL (``sql/operator``) and in one pass over the retention plan.

Every statement returns counts grouped by closed vocabularies (state, fase,
reason code, check id, expectation, notification kind); no statement returns a
melding id. The one exception is the retention backlog: it reuses
:func:`nazorg.bewaartermijn.plan`, which reads the retention clock per melding
(ids and dates, no BSN) inside this process, exactly as the daily run does, and
only the lengths of its answer leave this module. A dry run
(:func:`nazorg.bewaartermijn.voer_uit` with ``droog``) would be exacter about
rows and files, but it deletes inside a rolled-back transaction and records a
run: a page view must not write to the pipeline DB, nor hold its write lock.

"Today" is the Dutch calendar day (as in the monthly report); "recent" is the
last ``uren`` hours, between :data:`MIN_UREN` and :data:`MAX_UREN`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from nazorg.models import Fase, MeldingStatus, OpschoonSoort, Reden, Uitkomst

if TYPE_CHECKING:
    from nazorg.register import Register
    from nazorg.settings import Settings
    from nazorg.store import Store

TIJDZONE = ZoneInfo("Europe/Amsterdam")
STANDAARD_UREN = 24
MIN_UREN = 1
MAX_UREN = 168
#: the reasons that say a source failed (not that it answered something unclear)
BRON_REDENEN: tuple[str, ...] = (
    Reden.BRON_ONBEREIKBAAR.value,
    Reden.BRON_TIMEOUT.value,
    Reden.BRON_FOUT.value,
)
#: the quarantine reason of a notification given up (nazorg.laatstedag)
NOTIFICATIE_MISLUKT = "notificatie_mislukt"


class OngeldigVenster(ValueError):
    """``uren`` outside :data:`MIN_UREN`..:data:`MAX_UREN`."""


@dataclass(frozen=True, slots=True)
class MeldingenPerStatus:
    status: str
    totaal: int
    vandaag: int


@dataclass(frozen=True, slots=True)
class QuarantaineReden:
    fase: str
    reden_code: str
    totaal: int
    vandaag: int


@dataclass(frozen=True, slots=True)
class Blokkade:
    expectation: str | None
    veld: str | None
    meldingen: int


@dataclass(frozen=True, slots=True)
class FalendeBron:
    bron: str  # the register's source kind of the check ("onbekend" for a check it no longer has)
    check_id: str
    reden: str
    aantal: int


@dataclass(frozen=True, slots=True)
class Herhaling:
    check_id: str
    wachtend: int  # volgende_poging still in the future
    aan_de_beurt: int  # due: the next batch asks again


@dataclass(frozen=True, slots=True)
class Notificaties:
    soort: str
    kanaal: str
    status: str
    aantal: int


@dataclass(frozen=True, slots=True)
class Bewaarachterstand:
    """What the next daily retention run would delete now, as counts (see the module docstring)."""

    peildatum: str
    check_paren: int  # (melding, check) pairs whose term has run: their uitkomst and plan rows
    meldingen: int  # meldingen whose every term has run: emptied to a tombstone
    grafstenen: int  # tombstones whose own term has run
    quarantaine: int
    verwerkingslog: int
    bezet: int  # meldingen a run holds now: left for the next day
    laatste_run: str | None  # when the last daily run ran (UTC), None if never
    laatste_run_droog: bool | None


@dataclass(frozen=True)
class Overzicht:
    """Everything the page and its JSON show; built by :func:`verzamel`."""

    gemaakt_op: str
    vandaag: str  # the Dutch date "today" means
    uren: int
    meldingen: list[MeldingenPerStatus]
    quarantaine: list[QuarantaineReden]
    geblokkeerd: int
    blokkades: list[Blokkade]
    falende_bronnen: list[FalendeBron]
    herhalingen: list[Herhaling]
    laatstedagsmeldingen: dict[str, int]
    notificaties: list[Notificaties]
    notificaties_opgegeven: dict[str, int]
    bewaartermijn: Bewaarachterstand

    def als_dict(self) -> dict[str, Any]:
        return asdict(self)


def controleer_uren(uren: int) -> int:
    if isinstance(uren, bool) or not isinstance(uren, int) or not MIN_UREN <= uren <= MAX_UREN:
        raise OngeldigVenster(f"uren: een geheel getal van {MIN_UREN} tot en met {MAX_UREN}")
    return uren


def begin_van_dag(nu: datetime) -> datetime:
    """Midnight of ``nu``'s Dutch calendar day, as an aware UTC datetime."""
    lokaal = nu.astimezone(TIJDZONE)
    return datetime(lokaal.year, lokaal.month, lokaal.day, tzinfo=TIJDZONE).astimezone(UTC)


def _tekst(moment: datetime) -> str:
    """As the pipeline stamps its timestamps (:func:`nazorg.store.now`), so they compare as text."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def bewaarachterstand(store: Store, register: Register, config: Settings, nu: datetime) -> Bewaarachterstand:
    """The retention backlog on ``nu``'s date: :func:`nazorg.bewaartermijn.plan`'s answer, counted."""
    from nazorg import bewaartermijn as bt

    dag = nu.date()
    klokken = bt.lees_klokken(store, nu)
    planning = bt.plan(
        dag,
        bt.termijnen(register),
        klokken,
        [(r["melding_id"], r["check_id"]) for r in store.query("bewaartermijn/checks")],
        bt.Instellingen.uit(config),
    )
    quarantaine = store.query(
        "bewaartermijn/quarantaine_verlopen_telling", {"voor": planning.quarantaine_voor}
    )
    log = store.query("bewaartermijn/verwerkingslog_verlopen_telling", {"voor": planning.verwerkingslog_voor})
    laatste = store.query(
        "operator/bewaartermijn_laatste_run", {"bewaartermijn": OpschoonSoort.BEWAARTERMIJN.value}
    )
    return Bewaarachterstand(
        peildatum=dag.isoformat(),
        check_paren=len(planning.checks),
        meldingen=len(planning.meldingen),
        grafstenen=len(planning.grafstenen),
        quarantaine=int(quarantaine[0]["aantal"]),
        verwerkingslog=int(log[0]["aantal"]),
        bezet=sum(1 for k in klokken if k.bezet),
        laatste_run=str(laatste[0]["uitgevoerd_op"]) if laatste else None,
        laatste_run_droog=(laatste[0]["droog"] == "ja") if laatste else None,
    )


def verzamel(
    store: Store,
    register: Register,
    config: Settings,
    *,
    nu: datetime,
    uren: int = STANDAARD_UREN,
    achterstand: Bewaarachterstand | None = None,
) -> Overzicht:
    """Every count of the operator's view at ``nu`` (injected: the tests fix the clock).

    ``achterstand``: a retention backlog computed shortly before (see
    :class:`nazorg.operator_view.app.Achterstand`); without it, it is computed now.
    """
    uren = controleer_uren(uren)
    van = _tekst(begin_van_dag(nu))
    sinds = _tekst(nu - timedelta(hours=uren))
    nu_tekst = _tekst(nu)
    bronnen = {entry.id: entry.bron for entry in register.checks}

    meldingen = [
        MeldingenPerStatus(str(r["status"]), int(r["totaal"]), int(r["vandaag"]))
        for r in store.query("operator/meldingen_per_status", {"van": van})
    ]
    quarantaine = [
        QuarantaineReden(str(r["fase"]), str(r["reden_code"]), int(r["totaal"]), int(r["vandaag"]))
        for r in store.query("operator/quarantaine_per_reden", {"van": van})
    ]
    blok = {"geblokkeerd": MeldingStatus.GEBLOKKEERD.value, "bewaak": Fase.BEWAAK.value}
    blokkades = [
        Blokkade(r["expectation"], r["veld"], int(r["aantal"]))
        for r in store.query("operator/geblokkeerd_per_expectation", blok)
    ]
    geblokkeerd = int(store.query("operator/geblokkeerd_totaal", blok)[0]["aantal"])
    falend = [
        FalendeBron(
            bronnen.get(str(r["check_id"]), "onbekend"), str(r["check_id"]), str(r["reden"]), int(r["aantal"])
        )
        for r in store.query(
            "operator/bronnen_falend",
            {"onbekend": Uitkomst.ONBEKEND.value, "redenen": list(BRON_REDENEN), "sinds": sinds},
        )
    ]
    falend.sort(key=lambda f: (f.bron, f.check_id, f.reden))
    herhalingen = [
        Herhaling(str(r["check_id"]), int(r["wachtend"]), int(r["aan_de_beurt"]))
        for r in store.query(
            "operator/herhalingen",
            {
                "nu": nu_tekst,
                "max_pogingen": config.batch_max_pogingen,
                "onbekend": Uitkomst.ONBEKEND.value,
                "niet_uitgevoerd": Uitkomst.NIET_UITGEVOERD.value,
                "geen_toestemming": Reden.GEEN_TOESTEMMING.value,
            },
        )
    ]
    laatstedag = {str(r["status"]): int(r["aantal"]) for r in store.query("operator/laatstedag_per_status")}
    notificaties = [
        Notificaties(str(r["soort"]), str(r["kanaal"]), str(r["status"]), int(r["aantal"]))
        for r in store.query("operator/notificatie_per_status", {"sinds": sinds})
    ]
    opgegeven = {
        str(r["herkomst"]): int(r["aantal"])
        for r in store.query("operator/notificatie_opgegeven", {"notificatie_mislukt": NOTIFICATIE_MISLUKT})
    }
    return Overzicht(
        gemaakt_op=_tekst(nu),
        vandaag=nu.astimezone(TIJDZONE).date().isoformat(),
        uren=uren,
        meldingen=meldingen,
        quarantaine=quarantaine,
        geblokkeerd=geblokkeerd,
        blokkades=blokkades,
        falende_bronnen=falend,
        herhalingen=herhalingen,
        laatstedagsmeldingen=laatstedag,
        notificaties=notificaties,
        notificaties_opgegeven=opgegeven,
        bewaartermijn=achterstand or bewaarachterstand(store, register, config, nu),
    )

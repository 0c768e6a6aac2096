"""The rights of the resident: inzage (AVG art. 15) and verwijdering (art. 17) for one person.

A person is found by the BSN, in the inbox (the only table that holds one),
and from there by melding id in every other table; in the processing log by
the pseudonym ``HMAC(current key, BSN)``. Records made under another key
cannot be matched without that key: :func:`verzamel` counts them and the
document says so.

The BSN arrives through :func:`lees_bsn` only (stdin or a file, never argv) and
is never printed: the document says that the BSN is stored, not what it is.
Outcomes *are* shown: this is the person's own copy of what is held on them.

What an erasure keeps, and why, is data: ``register/rechten_betrokkene.yaml``
names for every :class:`~nazorg.bewaartermijn.Categorie` ``verwijderen`` or
``bewaren`` with the reason the person is given. :func:`verwijder` follows it
and reports both halves as counts per category.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nazorg.bewaartermijn import (
    Categorie,
    Rapport,
    boekhouding,
    nieuwe_run_id,
    outbox_bestanden,
    verwijder_bestanden,
    verwijder_meldingrijen,
    verwijder_uit_parquet,
)
from nazorg.bsn import is_valid_bsn, pseudonymise
from nazorg.models import OpschoonSoort
from nazorg.sleutel import sleutel_id

if TYPE_CHECKING:
    from nazorg.settings import Settings
    from nazorg.store import Store

log = logging.getLogger(__name__)

BELEID_BESTAND = "rechten_betrokkene.yaml"


class BsnOngeldig(ValueError):
    """The input is not one valid BSN; the message never quotes it."""


class BeleidOngeldig(ValueError):
    """``rechten_betrokkene.yaml`` is missing, unreadable or incomplete."""


def lees_bsn(tekst: str) -> str:
    """One BSN in canonical form (nine digits, elfproef) from stdin's or a file's text.

    Surrounding whitespace and one trailing newline are what a shell or editor
    adds; anything else (two values, separators, eight digits) is refused
    rather than repaired, so a typo never matches another person.
    """
    waarden = tekst.split()
    if len(waarden) != 1:
        raise BsnOngeldig("verwacht precies één BSN (op stdin of in het bestand)")
    bsn = waarden[0]
    if not is_valid_bsn(bsn):
        raise BsnOngeldig("geen geldig BSN: negen cijfers die de elfproef doorstaan")
    return bsn


class _Beleidsregel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    bij_verwijderverzoek: Literal["verwijderen", "bewaren"]
    reden: str | None = Field(default=None, min_length=20)

    @model_validator(mode="after")
    def _reden_bij_bewaren(self) -> _Beleidsregel:
        if self.bij_verwijderverzoek == "bewaren" and not self.reden:
            raise ValueError("bewaren vraagt een reden")
        return self


class Beleid(BaseModel):
    """Per category: deleted or kept on an erasure request, and the reason for keeping."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    versie: int = Field(ge=1)
    categorieen: dict[Categorie, _Beleidsregel]

    @model_validator(mode="after")
    def _elke_categorie(self) -> Beleid:
        ontbreekt = [c.value for c in Categorie if c not in self.categorieen]
        if ontbreekt:
            raise ValueError(f"categorieën ontbreken: {', '.join(ontbreekt)}")
        return self

    def verwijdert(self, categorie: Categorie) -> bool:
        return self.categorieen[categorie].bij_verwijderverzoek == "verwijderen"

    def reden(self, categorie: Categorie) -> str:
        return self.categorieen[categorie].reden or ""


def laad_beleid(register_dir: Path) -> Beleid:
    pad = register_dir / BELEID_BESTAND
    try:
        data = yaml.safe_load(pad.read_text(encoding="utf-8"))
        return Beleid.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise BeleidOngeldig(f"{pad}: niet leesbaar: {type(exc).__name__}") from None
    except ValidationError as exc:
        problemen = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise BeleidOngeldig(f"{pad}: {problemen}") from None


# -- inzage ---------------------------------------------------------------------------------------


@dataclass
class Inzage:
    """Everything the pipeline holds on one person (in memory only; rendered by :func:`als_markdown`)."""

    meldingen: list[dict[str, Any]]
    plan: list[dict[str, Any]] = field(default_factory=list)
    uitkomsten: list[dict[str, Any]] = field(default_factory=list)
    basisdocumenten: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    parquet: list[tuple[str, int]] = field(default_factory=list)  # (file relative to the root, rows)
    toestemmingen: list[dict[str, Any]] = field(default_factory=list)
    notificaties: list[dict[str, Any]] = field(default_factory=list)
    quarantaine: list[dict[str, Any]] = field(default_factory=list)
    laatstedagsmeldingen: list[dict[str, Any]] = field(default_factory=list)
    verwerkingslog: list[dict[str, Any]] = field(default_factory=list)
    verwerkingslog_andere_sleutel: int = 0
    sleutel_id: str = ""

    @property
    def gevonden(self) -> bool:
        return bool(self.meldingen or self.verwerkingslog)

    @property
    def melding_ids(self) -> list[str]:
        return [m["melding_id"] for m in self.meldingen]


def _per_melding(store: Store, naam: str, melding_ids: Sequence[str]) -> list[dict[str, Any]]:
    if not melding_ids:
        return []
    return store.query(f"rechten/{naam}", {"melding_ids": list(melding_ids)})


def parquet_rijen(root: Path, meldingen: Sequence[dict[str, Any]]) -> list[tuple[str, int]]:
    """Per Parquet file of the batch: how many rows it holds of these meldingen."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from nazorg.bewaartermijn import parquet_bestanden

    per_gemeente: dict[str, set[str]] = {}
    for m in meldingen:
        per_gemeente.setdefault(m["gemeente_code"], set()).add(m["melding_id"])
    uit = []
    for gemeente_code, ids in sorted(per_gemeente.items()):
        gezocht = pa.array(sorted(ids), type=pa.string())
        for pad in parquet_bestanden(root, gemeente_code):
            kolom = pq.read_table(pad, columns=["melding_id"])["melding_id"]
            aantal = int(pc.sum(pc.is_in(kolom, value_set=gezocht)).as_py() or 0)
            if aantal:
                uit.append((str(pad.relative_to(root)), aantal))
    return uit


def verzamel(store: Store, config: Settings, bsn: str) -> Inzage:
    """Read everything held on the person with this (canonical) BSN."""
    key = config.pseudonym_key()
    pseudoniem = pseudonymise(bsn, key)
    sleutel = sleutel_id(key)
    meldingen = store.query("rechten/inbox_voor_bsn", {"bsn": bsn})
    ids = [m["melding_id"] for m in meldingen]
    return Inzage(
        meldingen=meldingen,
        plan=_per_melding(store, "plan", ids),
        uitkomsten=_per_melding(store, "uitkomst", ids),
        basisdocumenten=_per_melding(store, "basisdocument", ids),
        outbox=_per_melding(store, "outbox", ids),
        parquet=parquet_rijen(config.parquet_dir, meldingen),
        toestemmingen=_per_melding(store, "toestemming", ids),
        notificaties=_per_melding(store, "notificatie", ids),
        quarantaine=_per_melding(store, "quarantaine", ids),
        laatstedagsmeldingen=_per_melding(store, "laatstedagsmelding", ids),
        verwerkingslog=store.query("rechten/verwerkingslog_voor_pseudoniem", {"pseudoniem": pseudoniem}),
        verwerkingslog_andere_sleutel=int(
            store.query(
                "rechten/verwerkingslog_andere_sleutel", {"sleutel_id": sleutel, "pseudoniem": pseudoniem}
            )[0]["aantal"]
        ),
        sleutel_id=sleutel,
    )


def _cel(waarde: Any) -> str:
    if waarde is None or waarde == "":
        return "-"
    return str(waarde).replace("|", "/").replace("\n", " ")


def _tabel(rijen: Sequence[dict[str, Any]], kolommen: Sequence[str], leeg: str) -> list[str]:
    if not rijen:
        return [leeg, ""]
    regels = ["| " + " | ".join(kolommen) + " |", "|" + "---|" * len(kolommen)]
    regels += ["| " + " | ".join(_cel(r.get(k)) for k in kolommen) + " |" for r in rijen]
    return [*regels, ""]


def als_markdown(inzage: Inzage, nu: datetime) -> str:
    """The inzage as one readable Markdown document with Dutch headings; never the BSN itself."""
    r: list[str] = [
        "# Inzage in persoonsgegevens (AVG artikel 15)",
        "",
        f"Opgesteld op {nu.astimezone(UTC).isoformat(timespec='seconds')} door de nazorg-intake.",
        "Het BSN staat in elke melding hieronder opgeslagen; het wordt in dit overzicht niet afgedrukt.",
        "",
        "## Meldingen (eerstedagsmeldingen)",
        "",
    ]
    r += _tabel(
        inzage.meldingen,
        (
            "melding_id",
            "gemeente_code",
            "inrichting",
            "datum_binnenkomst",
            "verwachte_einddatum",
            "reclassering_betrokken",
            "status",
            "ontvangen_op",
        ),
        "Geen meldingen met dit BSN.",
    )
    r += ["## Laatstedagsmeldingen (einde detentie)", ""]
    r += _tabel(
        inzage.laatstedagsmeldingen,
        ("melding_id", "datum_uitstroom", "gemeente_hervestiging", "status", "ontvangen_op"),
        "Geen laatstedagsmeldingen.",
    )
    r += ["## Plan: welke controles wel en niet zijn uitgevoerd", ""]
    r += _tabel(
        inzage.plan, ("melding_id", "check_id", "aandachtsgebied", "uitvoeren", "reden"), "Geen plan."
    )
    r += ["## Uitkomsten van de controles", ""]
    r += _tabel(
        inzage.uitkomsten,
        ("melding_id", "check_id", "uitkomst", "reden", "dossierverantwoordelijke", "bepaald_op"),
        "Geen uitkomsten.",
    )
    r += ["## Basisdocumenten", ""]
    r += _tabel(
        inzage.basisdocumenten,
        ("melding_id", "gemeente_code", "status", "register_versie", "bijgewerkt_op"),
        "Geen basisdocumenten.",
    )
    r += ["## Gepubliceerd aan de gemeente", ""]
    r += _tabel(
        [{**o, "bestand": "ja" if o.get("bestand") else "nee"} for o in inzage.outbox],
        ("melding_id", "gemeente_code", "versie", "gepubliceerd_op", "bestand"),
        "Niets gepubliceerd als los document.",
    )
    r += _tabel(
        [{"bestand": naam, "rijen": n} for naam, n in inzage.parquet],
        ("bestand", "rijen"),
        "Geen rijen in de Parquet-bestanden van de batch.",
    )
    r += ["## Toestemmingen en overeenkomsten", ""]
    r += _tabel(
        inzage.toestemmingen,
        (
            "melding_id",
            "soort",
            "check_id",
            "tekst_versie",
            "vastgelegd_op",
            "geldig_tot",
            "ingetrokken_op",
        ),
        "Geen toestemmingen.",
    )
    r += ["## Verstuurde notificaties", ""]
    r += _tabel(
        inzage.notificaties,
        ("melding_id", "soort", "team_id", "gemeente_code", "kanaal", "status", "verzonden_op"),
        "Geen notificaties.",
    )
    r += ["## Quarantaine (afgekeurde of geblokkeerde verwerking)", ""]
    r += _tabel(
        inzage.quarantaine,
        ("melding_id", "fase", "reden_code", "veld", "geregistreerd_op"),
        "Geen quarantaineregels.",
    )
    r += [
        "## Verwerkingslog (Logboek Dataverwerkingen)",
        "",
        f"Gevonden via het pseudoniem van het BSN onder de huidige sleutel (sleutel_id {inzage.sleutel_id}).",
        "",
    ]
    r += _tabel(
        inzage.verwerkingslog,
        ("name", "processing_activity_id", "status_code", "start_time", "end_time", "sleutel_id"),
        "Geen verwerkingen onder de huidige sleutel.",
    )
    r += [
        f"Onder een andere of onbekende sleutel staan {inzage.verwerkingslog_andere_sleutel} records; "
        "die zijn zonder die sleutel aan niemand te koppelen en dus niet in dit overzicht opgenomen.",
        "",
    ]
    return "\n".join(r)


# -- verwijderen ----------------------------------------------------------------------------------


@dataclass
class Verwijdering:
    """What an erasure removed and what it kept (counts per category, the kept ones with a reason)."""

    rapport: Rapport
    bewaard: dict[Categorie, tuple[int, str]]  # category -> (how many, the reason given)

    def als_tekst(self) -> str:
        regels = ["# Verwijderverzoek (AVG artikel 17)", "", "## Verwijderd", ""]
        verwijderd = [(c, n) for c, n in self.rapport.tellingen.items() if n]
        regels += [f"- {c.value}: {n}" for c, n in verwijderd] or ["- niets"]
        regels += ["", "## Bewaard, en waarom", ""]
        for categorie, (aantal, reden) in self.bewaard.items():
            regels += [f"- {categorie.value}: {aantal}", f"  {reden}"]
        if not self.bewaard:
            regels += ["- niets"]
        return "\n".join([*regels, ""])

    def voor_json(self) -> dict[str, Any]:
        return {
            "verwijderd": self.rapport.voor_xcom(),
            "bewaard": {c.value: {"aantal": n, "reden": reden} for c, (n, reden) in self.bewaard.items()},
        }


def verwijder(store: Store, config: Settings, bsn: str, *, nu: datetime) -> Verwijdering | None:
    """Erase what is held on this person where no retention duty applies; None if nothing is held.

    Files first (the published JSON, the Parquet rows), then every row of the
    person's meldingen in one transaction, each category as the policy says.
    The counts are recorded like a retention run (``soort`` verwijderverzoek),
    without ids.
    """
    beleid = laad_beleid(config.register_dir)
    inzage = verzamel(store, config, bsn)
    if not inzage.gevonden:
        return None
    ids = inzage.melding_ids
    rapport = Rapport(nieuwe_run_id(), OpschoonSoort.VERWIJDERVERZOEK, nu.date(), False)
    tel = rapport.tellingen
    if beleid.verwijdert(Categorie.OUTBOX_BESTAND):
        tel[Categorie.OUTBOX_BESTAND] = verwijder_bestanden(outbox_bestanden(store, ids), droog=False)
    if beleid.verwijdert(Categorie.PARQUET_RIJ):
        per_gemeente: dict[str, list[str]] = {}
        for m in inzage.meldingen:
            per_gemeente.setdefault(m["gemeente_code"], []).append(m["melding_id"])
        (
            tel[Categorie.PARQUET_RIJ],
            tel[Categorie.PARQUET_BESTAND_HERSCHREVEN],
            tel[Categorie.PARQUET_BESTAND_VERWIJDERD],
        ) = verwijder_uit_parquet(config.parquet_dir, per_gemeente, droog=False)
    categorieen = frozenset(c for c in Categorie if beleid.verwijdert(c))
    pseudoniem = pseudonymise(bsn, config.pseudonym_key())
    nu_tekst = nu.isoformat(timespec="milliseconds")

    with store.transaction() as conn:
        verwijder_meldingrijen(store, conn, ids, nu_tekst, tel, categorieen)
        if Categorie.INBOX_GRAFSTEEN in categorieen and ids:
            tel[Categorie.INBOX_GRAFSTEEN] += store.execute(
                "rechten/inbox_verwijder", {"melding_ids": ids}, conn=conn
            )
        if Categorie.VERWERKINGSLOG in categorieen:
            tel[Categorie.VERWERKINGSLOG] += store.execute(
                "rechten/verwerkingslog_verwijder", {"pseudoniem": pseudoniem}, conn=conn
            )
        boekhouding(store, conn, rapport)
    from nazorg.store import purge_checkpoint

    purge_checkpoint(store.engine)
    log.info(
        "verwijderverzoek %s: %s",
        rapport.run_id,
        ", ".join(f"{c.value} {n}" for c, n in rapport.tellingen.items() if n),
    )
    aantallen = _aantallen(inzage)
    bewaard = {
        c: (aantallen.get(c, 0), beleid.reden(c))
        for c in Categorie
        if not beleid.verwijdert(c) and aantallen.get(c, 0)
    }
    return Verwijdering(rapport, bewaard)


def _aantallen(inzage: Inzage) -> dict[Categorie, int]:
    """How much of each category the person had before the erasure (what a kept category keeps)."""
    return {
        Categorie.UITKOMST: len(inzage.uitkomsten),
        Categorie.PLAN: len(inzage.plan),
        Categorie.BASISDOCUMENT: len(inzage.basisdocumenten),
        Categorie.OUTBOX: len(inzage.outbox),
        Categorie.OUTBOX_BESTAND: sum(1 for o in inzage.outbox if o.get("bestand")),
        Categorie.PARQUET_RIJ: sum(n for _, n in inzage.parquet),
        Categorie.TOESTEMMING: len({t["toestemming_id"] for t in inzage.toestemmingen or []}),
        Categorie.TOESTEMMING_CHECK: sum(1 for t in inzage.toestemmingen or [] if t.get("check_id")),
        Categorie.NOTIFICATIE: len(inzage.notificaties),
        Categorie.LAATSTEDAGSMELDING: len(inzage.laatstedagsmeldingen),
        Categorie.QUARANTAINE: len(inzage.quarantaine),
        Categorie.INBOX_BSN: len(inzage.meldingen),
        Categorie.INBOX_GRAFSTEEN: len(inzage.meldingen),
        Categorie.VERWERKINGSLOG: len(inzage.verwerkingslog),
    }


def json_dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)

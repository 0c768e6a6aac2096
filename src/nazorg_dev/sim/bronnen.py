"""Fill the simulated bronsystemen and consent records from the synthetic population."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from nazorg.settings import settings
from nazorg_dev.sim.population import Persoon

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from nazorg.store import Store

# The team each simulated system names per gemeente. Real systems do not share one
# spelling: some store the team's name, some a code. Every value here is a team of that
# gemeente's besluit (register/besluiten/*.yaml), by exact name or by id, so the checks
# publish the source's team (as the besluit spells it); tests/security/test_contacts.py
# shows what happens to anything else. Not a team of the besluit: not published.
_TEAMS: dict[str, dict[str, str]] = {
    "vh_doelgroep": {"9901": "Top-x-regie Veiligheidshuis Ruimhaven"},
    "mo_clienten": {"9901": "maatschappelijke-opvang"},
    "wonen_huurschuld": {"9901": "Team Wonen Ruimhaven", "9902": "woonconsulenten"},
    "wi_uitkeringen": {"9901": "Team Werk en Inkomen Ruimhaven", "9902": "Werkplein Strikdorp"},
    "wi_aanvragen": {"9901": "werk-en-inkomen", "9902": "werkplein"},
    "cjib_vorderingen": {"9901": "Team Schuldhulpverlening Ruimhaven", "9902": "sociaal-team"},
    "shv_dossiers": {"9901": "Schuldhulpmaatje Ruimhaven", "9902": "Sociaal Team Strikdorp"},
    "wmo_voorzieningen": {"9901": "wmo-consulenten", "9902": "Sociaal Team Strikdorp"},
    "ggz_profielen": {"9901": "FACT-team Ruimhaven", "9902": "Sociaal Team Strikdorp"},
    "ggd_meldingen": {"9901": "ggd-infectieziekten", "9902": "ggd-tbc"},
}


def _team(table: str, p: Persoon) -> str | None:
    """The team ``table``'s system names for ``p``; None where it names none for that gemeente."""
    return _TEAMS[table].get(p.gemeente_code)


def rows_for(people: Sequence[Persoon], seed: int) -> dict[str, list[dict[str, Any]]]:
    """Source rows per table; extra sensitive columns are filled on purpose."""
    rng = random.Random(seed + 1)
    vandaag = date.today()
    tables: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in (
            "vh_doelgroep",
            "mo_clienten",
            "wonen_huurschuld",
            "wi_uitkeringen",
            "wi_aanvragen",
            "cjib_vorderingen",
            "shv_dossiers",
            "wmo_voorzieningen",
            "ggz_profielen",
            "ggd_meldingen",
        )
    }
    for p in people:
        if p.doelgroep_topx:
            tables["vh_doelgroep"].append(
                {
                    "bsn": p.bsn,
                    "actief": 1,
                    "regievoerder": _team("vh_doelgroep", p),
                    "delict_omschrijving": "synthetisch delict",
                }
            )
        if p.maatschappelijke_opvang:
            tables["mo_clienten"].append(
                {
                    "bsn": p.bsn,
                    "opvanglocatie": "Nachtopvang Zuid",
                    "contactteam": _team("mo_clienten", p),
                    "instroomdatum": "2025-01-15",
                }
            )
        if p.huurschuld:
            tables["wonen_huurschuld"].append(
                {
                    "bsn": p.bsn,
                    "verhuurder": "Woonstichting Synthetisch",
                    "achterstand_bedrag": rng.randint(200, 6000),
                    "team": _team("wonen_huurschuld", p),
                }
            )
        if p.uitkering or p.reintegratie:
            tables["wi_uitkeringen"].append(
                {
                    "bsn": p.bsn,
                    "regeling": "PW",
                    "bedrag_maand": rng.randint(900, 1400),
                    "status": "lopend" if p.uitkering else "beeindigd",
                    "reintegratie_traject": int(p.reintegratie),
                    "consulent_team": _team("wi_uitkeringen", p),
                }
            )
        if p.uitkering:  # the aanvraag that led to the lopende uitkering: long decided
            tables["wi_aanvragen"].append(
                {
                    "bsn": p.bsn,
                    "regeling": "PW",
                    "aanvraagdatum": (vandaag - timedelta(days=400)).isoformat(),
                    "status": "toegekend",
                    "consulent_team": _team("wi_aanvragen", p),
                }
            )
        if p.uitkering_aanvraag is not None:
            tables["wi_aanvragen"].append(
                {
                    "bsn": p.bsn,
                    "regeling": "PW" if not p.uitkering else "IOAW",
                    "aanvraagdatum": (vandaag - timedelta(days=20)).isoformat(),
                    "status": p.uitkering_aanvraag,
                    "consulent_team": _team("wi_aanvragen", p),
                }
            )
        if p.schuld_cjib:
            tables["cjib_vorderingen"].append(
                {
                    "bsn": p.bsn,
                    "openstaand_bedrag": rng.randint(50, 9000),
                    "team": _team("cjib_vorderingen", p),
                }
            )
        if p.schuldhulp:
            tables["shv_dossiers"].append(
                {
                    "bsn": p.bsn,
                    "totale_schuld": rng.randint(1000, 40000),
                    "schuldhulpverlener_team": _team("shv_dossiers", p),
                }
            )
        if p.wmo:
            tables["wmo_voorzieningen"].append(
                {
                    "bsn": p.bsn,
                    "voorziening": "begeleiding individueel",
                    "einddatum": None,
                    "team": _team("wmo_voorzieningen", p),
                }
            )
        if p.ggz_risico:
            tables["ggz_profielen"].append(
                {
                    "bsn": p.bsn,
                    "risicoprofiel": 1,
                    "diagnose": "synthetische diagnose",
                    "behandelteam": _team("ggz_profielen", p),
                }
            )
        if p.tbc_afgesloten:  # long closed: treatment finished, no action (the check says nee)
            tables["ggd_meldingen"].append(
                {
                    "bsn": p.bsn,
                    "ziekte": "synthetische besmetting",
                    "registratiedatum": (vandaag - timedelta(days=3000)).isoformat(),
                    "afgesloten_op": (vandaag - timedelta(days=2500)).isoformat(),
                    "team": _team("ggd_meldingen", p),
                }
            )
        if p.tbc:
            tables["ggd_meldingen"].append(
                {
                    "bsn": p.bsn,
                    "ziekte": "synthetische besmetting",
                    "registratiedatum": (vandaag - timedelta(days=60)).isoformat(),
                    "afgesloten_op": None,
                    "team": _team("ggd_meldingen", p),
                }
            )
    return tables


def vul_bronnen(engine: Engine, people: Sequence[Persoon], seed: int) -> dict[str, int]:
    """(Re)create the source tables and load them in one transaction; returns row counts per table.

    PostgreSQL gets the rows through ``COPY`` and then ``ANALYZE`` (50,000 people,
    some 75,000 rows, load in about a second instead of several); other
    databases through one executemany per table.
    """
    from sqlalchemy import text

    from nazorg.store import run_script

    run_script(engine, settings().sql_dir / "sim" / "bronnen_schema.sql")
    tables = rows_for(people, seed)
    with engine.begin() as conn:
        copy = conn.dialect.name == "postgresql"
        for table, rows in tables.items():
            if not rows:
                continue
            columns = list(rows[0])
            if copy:
                cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copier:
                    for row in rows:
                        copier.write_row([row[c] for c in columns])
            else:
                values = ", ".join(f":{c}" for c in columns)
                conn.execute(text(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"), rows)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            analyze = f"ANALYZE {', '.join(tables)}"  # fresh statistics for the lookups' plans
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text(analyze))
    return {table: len(rows) for table, rows in tables.items()}


#: the checks a simulated person's consent covers (register: wanneer: toestemming)
TOESTEMMING_CHECKS = ("huurschuld", "uitkering_voorschot")
#: what the simulator records as the consent's text version and recorder
SIM_TEKST_VERSIE = "sim-v1"
SIM_DOOR = "simulator"


def vul_toestemmingen(store: Store, people: Sequence[Persoon], vandaag: date | None = None) -> int:
    """Consent for the financial checks, per melding in the inbox of each person who gave it.

    Consent is kept per melding (revision 0009), so this runs after intake: a
    melding submitted later gets none until this runs again (idempotent: the
    consent id is derived from the melding id, a second call adds nothing).
    Returns the number of (melding, check) pairs covered.
    """
    paren = ((str(r["melding_id"]), str(r["bsn"])) for r in store.query("sim/inbox_meldingen"))
    return vul_toestemmingen_voor(store, paren, people, vandaag)


def vul_toestemmingen_voor(
    store: Store, meldingen: Iterable[tuple[str, str]], people: Sequence[Persoon], vandaag: date | None = None
) -> int:
    """:func:`vul_toestemmingen` for these (melding_id, bsn) pairs, whether in the inbox yet or not.

    The consent table has no reference to the inbox: a benchmark that knows the
    meldingen it will submit records their consent before it times the intake
    and the batch, so the consent-gated checks take part in what it measures.
    """
    from nazorg.bsn import canonieke_bsn
    from nazorg.store import now

    geldig_tot = ((vandaag or date.today()) + timedelta(days=365)).isoformat()
    toestemmend = {p.bsn for p in people if p.toestemming_financieel}
    ids = sorted({m for m, bsn in meldingen if canonieke_bsn(bsn) in toestemmend})
    if not ids:
        return 0
    nu = now()
    with store.transaction() as conn:
        store.execute(
            "toestemming_insert",
            [
                {
                    "toestemming_id": f"sim-{m}",
                    "melding_id": m,
                    "soort": "toestemming",
                    "tekst_versie": SIM_TEKST_VERSIE,
                    "vastgelegd_door": SIM_DOOR,
                    "vastgelegd_op": nu,
                    "geldig_tot": geldig_tot,
                }
                for m in ids
            ],
            conn=conn,
        )
        store.execute(
            "toestemming_check_insert",
            [{"toestemming_id": f"sim-{m}", "check_id": c} for m in ids for c in TOESTEMMING_CHECKS],
            conn=conn,
        )
    return len(ids) * len(TOESTEMMING_CHECKS)

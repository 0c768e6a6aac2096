"""Fill the simulated bronsystemen and consent records from the synthetic population."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from nazorg.settings import settings
from nazorg_dev.sim.population import Persoon

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from nazorg.store import Store

_TEAM = {"9901": "Ruimhaven", "9902": "Strikdorp"}


def _team(prefix: str, p: Persoon) -> str:
    return f"{prefix} {_TEAM.get(p.gemeente_code, 'regio')}"


def rows_for(people: Sequence[Persoon], seed: int) -> dict[str, list[dict[str, Any]]]:
    """Source rows per table; extra sensitive columns are filled on purpose."""
    rng = random.Random(seed + 1)
    tables: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in (
            "vh_doelgroep",
            "mo_clienten",
            "wonen_huurschuld",
            "wi_uitkeringen",
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
                    "regievoerder": _team("Top-x-regie Veiligheidshuis", p),
                    "delict_omschrijving": "synthetisch delict",
                }
            )
        if p.maatschappelijke_opvang:
            tables["mo_clienten"].append(
                {
                    "bsn": p.bsn,
                    "opvanglocatie": "Nachtopvang Zuid",
                    "contactteam": _team("Team Maatschappelijke Opvang", p),
                    "instroomdatum": "2025-01-15",
                }
            )
        if p.huurschuld:
            tables["wonen_huurschuld"].append(
                {
                    "bsn": p.bsn,
                    "verhuurder": "Woonstichting Synthetisch",
                    "achterstand_bedrag": rng.randint(200, 6000),
                    "team": _team("Team Wonen", p),
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
                    "consulent_team": _team("Team Werk en Inkomen", p),
                }
            )
        if p.schuld_cjib:
            tables["cjib_vorderingen"].append(
                {
                    "bsn": p.bsn,
                    "openstaand_bedrag": rng.randint(50, 9000),
                    "team": _team("Team Schuldhulpverlening", p),
                }
            )
        if p.schuldhulp:
            tables["shv_dossiers"].append(
                {
                    "bsn": p.bsn,
                    "totale_schuld": rng.randint(1000, 40000),
                    "schuldhulpverlener_team": _team("Schuldhulpmaatje", p),
                }
            )
        if p.wmo:
            tables["wmo_voorzieningen"].append(
                {
                    "bsn": p.bsn,
                    "voorziening": "begeleiding individueel",
                    "einddatum": None,
                    "team": _team("Wmo-consulenten", p),
                }
            )
        if p.ggz_risico:
            tables["ggz_profielen"].append(
                {
                    "bsn": p.bsn,
                    "risicoprofiel": 1,
                    "diagnose": "synthetische diagnose",
                    "behandelteam": _team("FACT-team", p),
                }
            )
        if p.tbc:
            tables["ggd_meldingen"].append(
                {
                    "bsn": p.bsn,
                    "ziekte": "synthetische besmetting",
                    "team": _team("GGD Infectieziektebestrijding", p),
                }
            )
    return tables


def vul_bronnen(engine: Engine, people: Sequence[Persoon], seed: int) -> dict[str, int]:
    """(Re)create the source tables and load them; returns row counts per table."""
    from sqlalchemy import text

    from nazorg.store import run_script

    run_script(engine, settings().sql_dir / "sim" / "bronnen_schema.sql")
    counts = {}
    with engine.begin() as conn:
        for table, rows in rows_for(people, seed).items():
            if rows:
                columns = ", ".join(rows[0])
                values = ", ".join(f":{c}" for c in rows[0])
                conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), rows)
            counts[table] = len(rows)
    return counts


def vul_toestemmingen(store: Store, people: Sequence[Persoon], vandaag: date | None = None) -> int:
    """Consent for the financial checks, for the people who gave it."""
    geldig_tot = ((vandaag or date.today()) + timedelta(days=365)).isoformat()
    rows = [
        {"bsn": p.bsn, "check_id": check_id, "soort": "toestemming", "geldig_tot": geldig_tot}
        for p in people
        if p.toestemming_financieel
        for check_id in ("huurschuld", "uitkering_voorschot")
    ]
    if rows:
        store.execute("toestemming_upsert", rows)
    return len(rows)

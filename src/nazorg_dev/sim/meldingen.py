"""Synthetic eerstedagsmeldingen for the demo, the tests and the benchmarks."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from nazorg_dev.sim.population import DEFAULT_SEED, DEFAULT_SIZE, population

INRICHTINGEN = ("PI Zuidkust", "PI Noorderveld", "PI Oostergouw")


def meldingen(
    aantal: int,
    seed: int = DEFAULT_SEED,
    size: int | None = None,
    vandaag: date | None = None,
    offset: int = 0,
    prefix: str = "EDM",
) -> Iterator[dict[str, Any]]:
    """Valid meldingen for distinct persons of the population.

    ``size`` defaults to the default population, or to just enough people for
    ``offset + aantal``: populations grow by appending people (see
    :func:`~nazorg_dev.sim.population.population`), so the simulator and the
    bronnen must only be at least that size to know everyone.
    """
    people = population(seed, max(DEFAULT_SIZE, offset + aantal) if size is None else size)
    if aantal + offset > len(people):
        raise ValueError(f"de populatie telt {len(people)} personen; vraag er minder of vergroot --size")
    rng = random.Random(seed + 7)
    dag = vandaag or date.today()
    for index in range(offset, offset + aantal):
        person = people[index]
        binnen = dag - timedelta(days=rng.randint(0, 2))
        record: dict[str, Any] = {
            "melding_id": f"{prefix}-{index + 1:06d}",
            "bsn": person.bsn,
            "gemeente_code": person.gemeente_code,
            "inrichting": rng.choice(INRICHTINGEN),
            "datum_binnenkomst": binnen.isoformat(),
        }
        if rng.random() < 0.6:
            record["verwachte_einddatum"] = (binnen + timedelta(days=rng.randint(14, 400))).isoformat()
        if person.reclassering_betrokken is not None:
            record["reclassering_betrokken"] = "ja" if person.reclassering_betrokken else "nee"
        yield record


def ongeldige_meldingen(vandaag: date | None = None, prefix: str = "EDM-FOUT") -> list[dict[str, Any]]:
    """One melding per typical defect: failing elfproef, unknown gemeente, unknown field, future date."""
    dag = vandaag or date.today()
    basis = {"inrichting": "PI Zuidkust", "datum_binnenkomst": dag.isoformat(), "gemeente_code": "9901"}
    return [
        {**basis, "melding_id": f"{prefix}-1", "bsn": "999000000"},  # 999-series, fails the elfproef
        {**basis, "melding_id": f"{prefix}-2", "bsn": "999000007", "gemeente_code": "0000"},
        {**basis, "melding_id": f"{prefix}-3", "bsn": "999000019", "diagnose": "synthetisch"},
        {
            **basis,
            "melding_id": f"{prefix}-4",
            "bsn": "999000020",
            "datum_binnenkomst": (dag + timedelta(days=30)).isoformat(),
        },
    ]

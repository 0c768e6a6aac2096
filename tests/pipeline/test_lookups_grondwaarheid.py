"""The shipped lookups against the simulated sources answer what the ground truth says, for everyone.

Why here and not only through the pipeline: the pipeline tests run a sample of
meldingen, and the people that make a time window or a second condition matter
(a GGD registration closed years ago, an aanvraag next to a lopende uitkering)
are few. This asks every person of the population at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from nazorg.sources.sql_lookup import run_lookup
from nazorg.store import make_engine
from nazorg_dev.sim.population import population
from tests.oracle import TRUTH

pytestmark = pytest.mark.pipeline
REPO = Path(__file__).resolve().parents[2]


def _ja(url: str, check_id: str) -> dict[str, bool]:
    engine = make_engine(url)
    try:
        sql = (REPO / "sql" / "lookups" / f"{check_id}.sql").read_text(encoding="utf-8")
        answers = run_lookup(engine, sql, [p.bsn for p in population()])
    finally:
        engine.dispose()
    return {bsn: a.bekend is True for bsn, a in answers.items()}


@pytest.mark.parametrize("check_id", ["uitkering_voorschot", "uitkering_reintegratie", "tbc_besmetting"])
def test_lookup_answers_the_ground_truth_for_every_person(sqlite_bronnen: str, check_id: str) -> None:
    ja = _ja(sqlite_bronnen, check_id)
    assert {p.bsn: bool(TRUTH[check_id](p)) for p in population()} == ja
    assert 0 < sum(ja.values()) < len(ja)  # both answers occur


def test_a_ggd_registration_closed_long_ago_is_nee(sqlite_bronnen: str) -> None:
    oud = [p.bsn for p in population() if p.tbc_afgesloten and not p.tbc]
    assert len(oud) > 10
    engine = make_engine(sqlite_bronnen)
    with engine.connect() as conn:  # the source does hold a record for each of them ...
        bekend = {row[0] for row in conn.execute(text("SELECT bsn FROM ggd_meldingen"))}
    engine.dispose()
    assert set(oud) <= bekend
    ja = _ja(sqlite_bronnen, "tbc_besmetting")
    assert not any(ja[bsn] for bsn in oud)  # ... and still the check says nee


def test_voorschot_answers_independently_of_the_uitkering_check(sqlite_bronnen: str) -> None:
    """Tabel 2: a voorschot *in afwachting van* an uitkering, so not a subset of having one."""
    voorschot = _ja(sqlite_bronnen, "uitkering_voorschot")
    uitkering = _ja(sqlite_bronnen, "uitkering_reintegratie")
    paren = {(voorschot[b], uitkering[b]) for b in voorschot}
    assert paren == {(True, False), (False, True), (False, False)}
    # an aanvraag next to a lopende uitkering is no ground for a voorschot
    naast = [p.bsn for p in population() if p.uitkering and p.uitkering_aanvraag == "in_behandeling"]
    assert naast and not any(voorschot[b] for b in naast)

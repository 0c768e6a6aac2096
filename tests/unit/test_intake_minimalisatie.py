"""Intake minimisation: a melding's answer field that the gemeente's besluit does not read is not stored.

Strikdorp's besluit does not run the reclassering check, so DJI/PI's ja/nee about
the reclassering (strafrechtelijke gegevens) must not reach its inbox, whether the
melding comes alone (``nazorg melding indienen``) or in a batch file (``nazorg batch``,
via :func:`nazorg.cli._batch_intake`). Ruimhaven runs the check and keeps it.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from nazorg.cli import _batch_intake, main
from nazorg.intake import ANTWOORDVELDEN, beoordeel
from nazorg.register import default_policy
from nazorg.sources.builtin import MeldingAdapter
from nazorg_dev.sim.meldingen import meldingen

pytestmark = pytest.mark.unit
TODAY = date.today()


@pytest.fixture
def pipeline_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from nazorg.store import dispose_engines

    db = tmp_path / "nazorg.db"
    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_DB", f"sqlite:///{db}")
    dispose_engines()
    assert main(["db", "upgrade"]) == 0
    yield db
    dispose_engines()


def _twee() -> list[dict[str, str]]:
    """One melding for each gemeente, both with reclassering_betrokken 'ja'."""
    gekozen: dict[str, dict[str, str]] = {}
    for record in meldingen(200):
        gekozen.setdefault(record["gemeente_code"], {**record, "reclassering_betrokken": "ja"})
    return [gekozen["9901"], gekozen["9902"]]


def _inbox(db: Path) -> dict[str, str | None]:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT gemeente_code, reclassering_betrokken FROM inbox")).all()
    engine.dispose()
    return dict(rows)  # type: ignore[arg-type]


def test_the_answer_fields_are_the_melding_sources_bronvragen() -> None:
    assert MeldingAdapter.bronvragen == ANTWOORDVELDEN


def test_each_besluit_reads_only_the_fields_of_its_own_checks() -> None:
    assert default_policy().melding_velden() == {
        "9901": frozenset({"reclassering_betrokken"}),
        "9902": frozenset(),
    }


@pytest.mark.parametrize(
    ("gemeenten", "ruimhaven"),
    [
        (default_policy().melding_velden(), "ja"),
        ({"9901", "9902"}, None),  # only codes: fail closed, nothing kept
        (default_policy().besluiten, None),  # not a field list: fail closed
    ],
)
def test_beoordeel_clears_what_the_besluit_does_not_read(gemeenten: object, ruimhaven: str | None) -> None:
    ruim, strik = (beoordeel(r, "t", gemeenten, TODAY).melding for r in _twee())  # type: ignore[arg-type]
    assert ruim is not None and strik is not None
    assert ruim.reclassering_betrokken == ruimhaven
    assert strik.reclassering_betrokken is None


def test_per_melding_intake_stores_null_where_the_besluit_does_not_read_it(
    pipeline_db: Path, tmp_path: Path
) -> None:
    path = tmp_path / "meldingen.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in _twee()) + "\n", encoding="utf-8")
    assert main(["melding", "indienen", str(path)]) == 0
    assert _inbox(pipeline_db) == {"9901": "ja", "9902": None}
    # Strikdorp's melding again with another value: the same melding as far as it is stored
    tweede = _twee()
    tweede[1]["reclassering_betrokken"] = "nee"
    path.write_text("\n".join(json.dumps(r) for r in tweede) + "\n", encoding="utf-8")
    assert main(["melding", "indienen", str(path)]) == 0
    engine = create_engine(f"sqlite:///{pipeline_db}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM quarantaine")).scalar() == 0  # no conflict
    engine.dispose()


def test_batch_intake_stores_null_where_the_besluit_does_not_read_it(
    pipeline_db: Path, tmp_path: Path
) -> None:
    records = _twee()
    path = tmp_path / "meldingen.csv"
    velden = sorted({k for r in records for k in r})
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=velden)
        writer.writeheader()
        writer.writerows(records)
    telling = _batch_intake(argparse.Namespace(meldingen=str(path), formaat="csv"))
    assert not isinstance(telling, int) and telling.opgeslagen == 2
    assert _inbox(pipeline_db) == {"9901": "ja", "9902": None}

"""bench/throughput.py records consent for the meldingen it is about to submit, before it times them.

Consent is kept per melding (revision 0009): recorded into an empty inbox it was
none, and the consent-gated checks dropped out of the measurement. The rows the
benchmark records up front must be exactly those `nazorg sim bronnen` records
after intake.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from nazorg import migrations
from nazorg.inbox import dien_in
from nazorg.intake import beoordeel_alle, decode, nieuwe_inzending
from nazorg.register import default_policy
from nazorg.store import Store, dispose_engines, make_engine
from nazorg_dev.sim.bronnen import vul_toestemmingen
from nazorg_dev.sim.meldingen import meldingen
from nazorg_dev.sim.population import DEFAULT_SEED, DEFAULT_SIZE, population
from tests.conftest import REPO

pytestmark = pytest.mark.unit


def _bench() -> object:
    spec = importlib.util.spec_from_file_location("bench_throughput", REPO / "bench" / "throughput.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_throughput"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _submit(store: Store, path: Path) -> None:
    inzending = nieuwe_inzending()
    judged = beoordeel_alle(
        decode(path.read_bytes(), inzending), default_policy().melding_velden(), date.today()
    )
    dien_in(store, judged, inzending=inzending)


def _consent(store: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT toestemming_id, melding_id, soort, tekst_versie, geldig_tot FROM toestemming")
        )
        checks = conn.execute(text("SELECT toestemming_id, check_id FROM toestemming_check"))
        return sorted(map(tuple, rows)), sorted(map(tuple, checks))


def test_the_benchmark_records_the_consent_sim_bronnen_records_after_intake(tmp_path: Path) -> None:
    bench = _bench()
    path = tmp_path / "meldingen.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in meldingen(60)), encoding="utf-8")
    try:
        # the benchmark: consent first (before the timed child), then the child's intake
        vooraf = f"sqlite:///{tmp_path / 'vooraf.db'}"
        bench.prepare_pipeline_db(vooraf, DEFAULT_SIZE, {}, path)  # type: ignore[attr-defined]
        store_vooraf = Store(make_engine(vooraf))
        _submit(store_vooraf, path)
        # the reference: intake, then `nazorg sim bronnen`'s consent
        engine = make_engine(f"sqlite:///{tmp_path / 'achteraf.db'}")
        migrations.upgrade(engine)
        store_achteraf = Store(engine)
        _submit(store_achteraf, path)
        vul_toestemmingen(store_achteraf, population(DEFAULT_SEED, DEFAULT_SIZE))

        got, expected = _consent(store_vooraf), _consent(store_achteraf)
        assert expected[0] and expected[1]  # some of these 60 people consented
        assert got == expected
        with store_vooraf.engine.connect() as conn:  # every consent belongs to a submitted melding
            los = conn.execute(
                text(
                    "SELECT COUNT(*) FROM toestemming t LEFT JOIN inbox i USING (melding_id) "
                    "WHERE i.bsn IS NULL"
                )
            ).scalar_one()
        assert los == 0
    finally:
        dispose_engines()

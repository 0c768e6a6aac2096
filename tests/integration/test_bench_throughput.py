"""bench/throughput.py runs end to end at a tiny size and records what it measured (no speed asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nazorg_dev.sim.meldingen import meldingen
from nazorg_dev.sim.population import by_bsn
from tests.conftest import REPO, require_postgres
from tests.oracle import expected

pytestmark = pytest.mark.integration


def test_de_throughput_bench_meet_het_minimum_en_legt_het_vast(tmp_path: Path) -> None:
    require_postgres()
    results = tmp_path / "results.md"
    env = {**os.environ, "NAZORG_BENCH_RESULTS": str(results), "PYTHONPATH": str(REPO / "src")}
    argv = [sys.executable, str(REPO / "bench" / "throughput.py"), "--sizes", "300", "--latencies", "0"]
    argv += ["--alleen-minimum", "--chunk", "100"]
    done = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    entry = results.read_text(encoding="utf-8")
    assert "## Throughput (nazorg batch vs. bare minimum)" in entry
    assert "pipeline: not run" in entry
    # the minimum asked what the besluiten ask: Reisdocumenten per melding of 9901 (id_bewijs),
    # Personen per 20 BSNs of a chunk per question (onderdak: 9901; kinderen: both gemeenten;
    # id_bewijs: the BSNs of 9901 Reisdocumenten answered nee for, to confirm the nee)
    records = list(meldingen(300))
    ruimhaven = sum(r["gemeente_code"] == "9901" for r in records)
    personen = 0
    for start in range(0, 300, 100):
        chunk = records[start : start + 100]
        uit_9901 = [r["bsn"] for r in chunk if r["gemeente_code"] == "9901"]
        # Reisdocumenten says nee for a person without documents whatever the BRP says of the
        # persoonslijst (there is no houder to read it from); otherwise it is the check's nee
        nee = [
            b
            for b in uit_9901
            if not by_bsn()[b].reisdocumenten or expected("id_bewijs", b, "9901")[0] == "nee"
        ]
        personen += -(-len(uit_9901) // 20) + -(-len(chunk) // 20) + -(-len(nee) // 20)
    row = next(line for line in entry.splitlines() if line.startswith("| 300 |"))
    assert f"| {ruimhaven}/{personen} |" in row
    # counts and times only: no BSN of the meldingen in the record
    assert not any(r["bsn"] in entry for r in records)
    json.dumps(entry)

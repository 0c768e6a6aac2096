"""Smoke test of bench/latency.py: it runs end to end on SQLite and records a well-formed entry.

Tiny counts and a temporary results file (never bench/results.md); no timing
assertions: speed is what the benchmark reports, not what a test decides.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def table(text: str, first_header: str) -> list[dict[str, str]]:
    """The markdown table whose header row starts with ``| first_header |``, as dicts."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    assert set(lines[start + 1].replace("|", "")) == {"-"}
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True)))
    return rows


def test_latency_bench_records_a_well_formed_entry(tmp_path: Path) -> None:
    results = tmp_path / "results.md"
    shipped = REPO / "bench" / "results.md"
    before = shipped.read_bytes() if shipped.exists() else None
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop("NAZORG_BENCH_RESULTS", None)
    done = subprocess.run(
        [
            sys.executable,
            "bench/latency.py",
            "--alleen-sqlite",
            "--n",
            "1",
            "--burst",
            "2",
            "--results",
            str(results),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert (shipped.read_bytes() if shipped.exists() else None) == before, "wrote into bench/results.md"

    text = results.read_text(encoding="utf-8")
    assert text.count("\n## Per-melding latency (bench/latency.py): ") == 1
    for fact in (
        r"- date: \S+ to \S+ \(\d+ s\)",
        r"- machine: nproc \d+, memory [\d.]+ GiB, cpu .+, python 3\.\d+\.\d+",
        r"- load average \(1/5/15 min\): start [\d.]+ [\d.]+ [\d.]+, end [\d.]+ [\d.]+ [\d.]+",
        r"- commit: [0-9a-f]{12}(-dirty)?",
        r"- command: `python bench/latency\.py --alleen-sqlite --n 1 --burst 2 --results .+`",
        r"- p95 ratio real/empty \(sqlite sequentieel\): [\d.]+",
    ):
        assert re.search(fact, text), fact

    rows = table(text, "metadata")
    assert [(r["metadata"], r["mode"], r["dag"], r["n"]) for r in rows] == [
        ("sqlite", "sequentieel", "eerstedagsmelding", "1"),
        ("sqlite", "sequentieel", "bench_leeg", "1"),
        ("sqlite", "burst", "eerstedagsmelding", "2"),
        ("sqlite", "burst", "bench_leeg", "2"),
    ]
    for row in rows:
        assert row["failed"] == "0"
        for column in ("min s", "median s", "p95 s", "max s"):
            assert NUMBER.match(row[column]), (column, row[column])
    assert all(NUMBER.match(r["all done s"]) for r in rows if r["mode"] == "burst")

    integrity = table(text, "metadata | triggered")
    assert integrity == [
        {"metadata": "sqlite", "triggered": "2", "published": "2", "lost": "0", "doubled": "0"}
    ]
    phases = {r["phase (sequential runs)"] for r in table(text, "metadata | phase (sequential runs)")}
    assert {
        "trigger → run start",
        "inside tasks (6 stages, checks as one)",
        "trigger → published/end",
    } <= phases
    tasks = {r["task"] for r in table(text, "metadata | task")}
    assert {"ontvang", "plan", "basisdocument", "bewaak", "publiceer"} <= tasks
    assert sum(t.startswith("check_") for t in tasks) == 6

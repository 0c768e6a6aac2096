"""bench/_record.py: entries are appended (never rewritten) and carry the facts that explain a number."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("bench_record", REPO / "bench" / "_record.py")
assert spec and spec.loader
_record = importlib.util.module_from_spec(spec)
sys.modules["bench_record"] = _record  # dataclasses look their module up there
spec.loader.exec_module(_record)


def test_table_columns_in_first_seen_order_with_missing_cells_and_escaping() -> None:
    rows = [{"a": 1, "b": 0.123456}, {"b": None, "c": "x|y"}]
    assert _record.markdown_table(rows).splitlines() == [
        "| a | b | c |",
        "|---|---|---|",
        "| 1 | 0.12 | – |",
        "| – | – | x\\|y |",
    ]


def test_record_appends_entries_with_machine_load_commit_and_command(tmp_path: Path) -> None:
    target = tmp_path / "results.md"
    started = _record.begin()
    _record.record(
        "Eerste", {"n": 3}, [{"s": 1.0}], started=started, command="python bench/x.py", path=target
    )
    first = target.read_text(encoding="utf-8")
    _record.record(
        "Tweede",
        {"n": 4},
        [{"s": 2.0}],
        started=started,
        tables={"Extra": [{"k": "v"}]},
        notes=["een notitie"],
        command="python bench/x.py --n 4",
        path=target,
    )
    text = target.read_text(encoding="utf-8")
    assert text.startswith(first)  # append-only
    second = text[len(first) :]
    assert re.search(r"^## Tweede: \d{4}-\d\d-\d\d \d\d:\d\d UTC$", second, re.M)
    assert re.search(r"^- machine: nproc \d+, memory .+, cpu .+, python 3\.", second, re.M)
    assert re.search(r"^- load average \(1/5/15 min\): start .+, end .+$", second, re.M)
    assert re.search(r"^- commit: ([0-9a-f]{12}(-dirty)?|unknown)$", second, re.M)
    assert "- command: `python bench/x.py --n 4`" in second
    assert "- n: 4" in second
    assert "| s |\n|---|\n| 2.00 |" in second
    assert "Extra:\n\n| k |\n|---|\n| v |" in second
    assert "een notitie" in second


def test_results_file_can_be_redirected_by_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(_record.RESULTS_ENV, str(tmp_path / "elders.md"))
    assert _record.results_path() == tmp_path / "elders.md"
    monkeypatch.delenv(_record.RESULTS_ENV)
    assert _record.results_path() == REPO / "bench" / "results.md"

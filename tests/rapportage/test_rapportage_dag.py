"""The rapportage DAG's task body, its cluster policy, and `nazorg rapportage`."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from nazorg.airflow import conf_guard, rapportage_tasks
from nazorg.cli import main
from nazorg.run_key import OngeldigeConf

pytestmark = pytest.mark.unit

GEGENEREERD = "scheduled__2026-12-01T06:00:00+00:00"


@pytest.fixture
def pipeline_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from nazorg import wiring
    from nazorg.settings import reload_settings
    from nazorg.store import dispose_engines

    db = tmp_path / "nazorg.db"
    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_DB", f"sqlite:///{db}")
    monkeypatch.setenv("NAZORG_RAPPORTAGE_DIR", str(tmp_path / "rapporten"))
    monkeypatch.setenv("NAZORG_RAPPORTAGE_MAANDEN", "4")
    reload_settings()  # the autouse fixture read them before these were set
    wiring.reset()
    dispose_engines()
    assert main(["db", "upgrade"]) == 0
    yield db
    dispose_engines()


def test_the_task_writes_the_last_closed_month_and_passes_on_counts_only(
    pipeline_db: Path, tmp_path: Path
) -> None:
    # 1 December 06:00 UTC: November is the month that is over
    tellingen = rapportage_tasks.maak_rapport(datetime(2026, 12, 1, 6, tzinfo=UTC))
    assert tellingen == {
        "gemeenten": 2,
        "maanden": 4,
        "tabellen": 8,
        "tabellen_achtergehouden": 8,  # an empty world: every table has fewer than ten meldingen
        "grafieken": 2 * 14,
    }
    assert all(isinstance(v, int) for v in tellingen.values())
    pad = tmp_path / "rapporten" / "nazorg-rapportage-2026-11.html"
    assert stat.S_IMODE(pad.stat().st_mode) == 0o600
    assert stat.S_IMODE(pad.parent.stat().st_mode) == 0o700
    assert "Trends: 2026-08 tot en met 2026-11" in pad.read_text(encoding="utf-8")


def test_the_cli_writes_one_gemeente_for_a_given_month(
    pipeline_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uit = tmp_path / "elders"
    assert main(["rapportage", "--maand", "2026-10", "--gemeente", "9902", "--uit", str(uit)]) == 0
    out = capsys.readouterr().out
    assert "rapportage 2026-10:" in out and "1 gemeente(n), 4 maanden" in out
    html = (uit / "nazorg-rapportage-2026-10-9902.html").read_text(encoding="utf-8")
    assert "(9902)" in html and "(9901)" not in html


@pytest.mark.parametrize(
    ("args", "reden"),
    [
        (["--maand", "2026-13"], "JJJJ-MM"),
        (["--maand", "okt"], "JJJJ-MM"),
        (["--gemeente", "1234"], "besluit"),
    ],
)
def test_the_cli_refuses_a_bad_month_or_gemeente(
    pipeline_db: Path, capsys: pytest.CaptureFixture[str], args: list[str], reden: str
) -> None:
    assert main(["rapportage", *args]) == 2
    assert reden in capsys.readouterr().err


def _run(conf: object, run_id: str = GEGENEREERD, start_date: object = None) -> SimpleNamespace:
    return SimpleNamespace(dag_id="rapportage", run_id=run_id, conf=conf, start_date=start_date)


def test_a_rapportage_run_with_a_conf_is_refused_and_scrubbed() -> None:
    run = _run({"maand": "2026-10", "bsn": "999990019"})
    with pytest.raises(OngeldigeConf, match="rapportage neemt geen conf"):
        conf_guard.task_instance_mutation_hook(object(), run)
    assert run.conf == {}


def test_a_rapportage_run_id_airflow_did_not_generate_is_refused() -> None:
    with pytest.raises(OngeldigeConf, match="gegenereerd"):
        conf_guard.task_instance_mutation_hook(object(), _run({}, run_id="rapport-999990019"))


def test_a_generated_rapportage_run_without_conf_is_accepted() -> None:
    run = _run({})
    conf_guard.task_instance_mutation_hook(object(), run)
    conf_guard.task_instance_mutation_hook(object(), _run(None, run_id="manual__2026-12-01T06:00:00+00:00"))
    assert run.conf == {}


def test_the_dag_file_imports_only_the_task_module_inside_its_task() -> None:
    source = (Path(__file__).resolve().parents[2] / "dags" / "rapportage.py").read_text(encoding="utf-8")
    top_level = [line for line in source.splitlines() if re.match(r"^(from|import) ", line)]
    assert top_level == [
        "from __future__ import annotations",
        "from datetime import UTC, datetime, timedelta",
        "from airflow.sdk import dag, task",
    ]

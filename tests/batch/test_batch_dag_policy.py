"""The intake_batch DAG takes no conf and only run ids Airflow generates (cluster policy)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from nazorg.airflow import conf_guard
from nazorg.run_key import OngeldigeConf

pytestmark = pytest.mark.unit
BSN = "999990019"


def _run(conf: Any, run_id: str, start_date: object = None) -> Any:
    return SimpleNamespace(dag_id="intake_batch", run_id=run_id, conf=conf, start_date=start_date)


def _generated_ids() -> list[str]:
    from airflow.models.dagrun import DagRun
    from airflow.utils.types import DagRunType

    now = datetime.now(UTC)
    cron = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    ids = []
    types = (DagRunType.MANUAL, DagRunType.SCHEDULED, DagRunType.BACKFILL_JOB, DagRunType.ASSET_TRIGGERED)
    for run_type in types:
        ids.append(DagRun.generate_run_id(run_type=run_type, logical_date=now, run_after=now))
        ids.append(DagRun.generate_run_id(run_type=run_type, logical_date=cron, run_after=cron))
        ids.append(DagRun.generate_run_id(run_type=run_type, logical_date=None, run_after=now))
    return ids


def test_runs_airflow_creates_are_accepted() -> None:
    for run_id in _generated_ids():
        for conf in ({}, None):
            run = _run(conf, run_id)
            conf_guard.task_instance_mutation_hook(object(), run)  # no exception
            assert run.conf == conf


@pytest.mark.parametrize(
    ("conf", "run_id"),
    [
        ({"bsn": BSN}, "manual__2026-11-30T02:00:00+00:00"),
        ({"run_key": "r-" + "a" * 24}, "manual__2026-11-30T02:00:00+00:00"),
        ({}, f"manual__{BSN}"),
        ({}, f"manual__2026-11-30T02:00:00.{BSN}+00:00"),
        ({}, f"scheduled__2026-11-30T02:00:00+00:00_{BSN}"),
        ({}, "iets-anders"),
    ],
)
def test_a_conf_or_a_chosen_run_id_is_refused_and_the_conf_scrubbed(conf: dict, run_id: str) -> None:
    run = _run(dict(conf), run_id)
    with pytest.raises(OngeldigeConf) as info:
        conf_guard.task_instance_mutation_hook(object(), run)
    assert run.conf == {}
    assert BSN not in str(info.value) and run_id not in str(info.value)
    existing = _run(dict(conf), run_id, start_date="2026-11-30T02:00:00+00:00")
    conf_guard.task_instance_mutation_hook(object(), existing)  # scrubbed, never raised in the scheduler
    assert existing.conf == {}


def test_a_chunk_task_ends_within_its_claim_lease() -> None:
    from nazorg.airflow.timeouts import intake_batch_instellingen
    from nazorg.settings import Settings

    config = Settings.from_env({"NAZORG_BATCH_CLAIM_S": "600", "NAZORG_BATCH_SCHEDULE": "0 * * * *"})
    inst = intake_batch_instellingen(config)
    assert inst.chunk.total_seconds() < config.batch_claim_s
    assert inst.schedule == "0 * * * *" and inst.retries >= 2
    assert inst.retry_delay.total_seconds() <= 60

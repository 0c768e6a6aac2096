"""The eerstedagsmelding DAG's Airflow timeouts, derived from the library's own deadlines.

Why derived: Airflow's ``execution_timeout`` kills a task, which fails the
run; a slow source must instead make its check onbekend (``bron_timeout``)
and let the run go on. So the library's deadlines end first (every source
question within ``source_deadline_s``, all of a check task's questions within
``check_task_deadline_s``, see :mod:`nazorg.sources.deadline`), and Airflow's
timeouts only catch what the library does not bound: a hung pipeline database,
a stuck import, a worker that stopped. A check task's ``execution_timeout`` is
therefore its sources' total deadline plus :data:`TASK_OVERHEAD_S`, and no
setting can make it the shorter of the two.

Imported by the DAG file at parse time: it reads settings only (no Airflow,
no sources, no database).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from nazorg.models import Aandachtsgebied
from nazorg.settings import Settings, settings

#: seconds a task may spend besides asking sources: starting the task process,
#: importing Airflow and Great Expectations, reading and writing the pipeline DB
TASK_OVERHEAD_S: Final = 120.0
#: ontvang, plan, basisdocument, bewaak, publiceer, and one check task per aandachtsgebied
EERSTEDAGSMELDING_TASKS: Final = 5 + len(Aandachtsgebied)


@dataclass(frozen=True, slots=True)
class DagTimeouts:
    #: ``execution_timeout`` of every task (``default_args``)
    task: timedelta
    #: the DAG's ``dagrun_timeout``
    run: timedelta


def eerstedagsmelding_timeouts(config: Settings | None = None) -> DagTimeouts:
    """One ``execution_timeout`` for all tasks (the check tasks' need it most) and the run's.

    The run's bound assumes the worst that is not a fault: no free worker
    slot for parallel checks, so every task runs after the other, each up to
    its own timeout. A run that takes longer is stuck, not busy.
    """
    config = config or settings()
    task = timedelta(seconds=config.check_task_deadline_s + TASK_OVERHEAD_S)
    return DagTimeouts(task=task, run=task * EERSTEDAGSMELDING_TASKS)


#: the intake_batch DAG's collecting and closing tasks: a few statements against the pipeline DB
BATCH_STAP_TIMEOUT: Final = timedelta(minutes=15)
#: retries of every intake_batch task: a chunk whose worker was killed is taken up again
BATCH_RETRIES: Final = 2
#: short, so a lost chunk is soon taken up again (its claims wait for it: see nazorg.batch.runner)
BATCH_RETRY_DELAY: Final = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class BatchDagInstellingen:
    #: the DAG's schedule (None: trigger only)
    schedule: str | None
    #: ``execution_timeout`` of verzamel and sluit_batch
    stap: timedelta
    #: ``execution_timeout`` of one chunk: within the chunk's claim lease, which it renews at its start
    chunk: timedelta
    retries: int
    retry_delay: timedelta


def intake_batch_instellingen(config: Settings | None = None) -> BatchDagInstellingen:
    """Schedule, timeouts and retries of the intake_batch DAG (read at parse time: settings only).

    A chunk's ``execution_timeout`` is three quarters of its claim's lease, so
    Airflow ends a stuck chunk before another batch may take its meldingen over.
    """
    config = config or settings()
    return BatchDagInstellingen(
        schedule=config.batch_schedule,
        stap=BATCH_STAP_TIMEOUT,
        chunk=timedelta(seconds=config.batch_claim_s * 0.75),
        retries=BATCH_RETRIES,
        retry_delay=BATCH_RETRY_DELAY,
    )


#: the laatstedagsmelding DAG's tasks: a few statements and a send per team
LAATSTEDAG_STAP_TIMEOUT: Final = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class LaatstedagDagInstellingen:
    #: the DAG's schedule (None: trigger only)
    schedule: str | None
    #: ``execution_timeout`` of each task
    stap: timedelta


def laatstedag_instellingen(config: Settings | None = None) -> LaatstedagDagInstellingen:
    """Schedule and timeout of the laatstedagsmelding DAG (read at parse time: settings only).

    No Airflow retries: a failed send is already retried on the next scheduled
    run (bounded by ``NAZORG_NOTIFICATIE_MAX_POGINGEN``), recorded per attempt.
    """
    config = config or settings()
    return LaatstedagDagInstellingen(schedule=config.laatstedag_schedule, stap=LAATSTEDAG_STAP_TIMEOUT)


@dataclass(frozen=True, slots=True)
class BewaartermijnDagInstellingen:
    #: the DAG's schedule (None: trigger only)
    schedule: str | None
    #: ``execution_timeout`` of the one task: deleting a day's due rows and rewriting Parquet files
    stap: timedelta


def bewaartermijn_instellingen(config: Settings | None = None) -> BewaartermijnDagInstellingen:
    """Schedule and timeout of the bewaartermijn DAG (read at parse time: settings only)."""
    config = config or settings()
    return BewaartermijnDagInstellingen(schedule=config.bewaartermijn_schedule, stap=timedelta(hours=2))

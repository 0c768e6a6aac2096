"""Refuse a run of the eerstedagsmelding DAG whose conf or run id is anything but its run key.

The same for the intake_batch, laatstedagsmelding, rapportage and bewaartermijn DAGs, which need no
conf at all: a run with a conf, or with a run id Airflow did not generate (a sender's
text could hide a BSN in it), is refused or scrubbed alike (:func:`beoordeel_batch_run`).

Why: Airflow keeps whatever conf a trigger sends in ``dag_run.conf`` (its param
validation accepts unknown keys), where every user who may see the run reads it.
A conf with a ``bsn`` key or free text must therefore never be stored at all.

Airflow calls the cluster policy ``task_instance_mutation_hook`` (installed from
``plugins/airflow_local_settings.py``) for every task instance it creates. When
a run is created (REST API, UI, ``airflow dags trigger``, ``dag.test``) that
happens inside ``create_dagrun``, in the same database transaction that inserts
the run, before anything is committed. Raising :class:`~nazorg.run_key.OngeldigeConf`
(a ``ValueError``) there makes the trigger endpoint answer HTTP 400 and roll the
transaction back: nothing of the request is stored. The message names the rule,
never what was sent.

The scheduler calls the same hook later for runs that already exist (when the
DAG changed under a running run). A bad conf there means the run slipped past
the hook (created before it was installed); the conf is scrubbed instead of
raised on, since an exception inside the scheduler's loop would stop scheduling,
and the first task then fails at once (:mod:`nazorg.airflow.tasks`).

Kept light: the api-server imports this in every request that creates runs.
"""

from __future__ import annotations

import re
from typing import Any, Final

from nazorg.run_key import OngeldigeConf, run_key_uit_conf

DAG_ID: Final = "eerstedagsmelding"
BATCH_DAG_ID: Final = "intake_batch"
RAPPORTAGE_DAG_ID: Final = "rapportage"
LAATSTEDAG_DAG_ID: Final = "laatstedagsmelding"
BEWAARTERMIJN_DAG_ID: Final = "bewaartermijn"
#: DAGs that take no conf at all and run only under run ids Airflow generated
ZONDER_CONF: Final = (BATCH_DAG_ID, LAATSTEDAG_DAG_ID, RAPPORTAGE_DAG_ID, BEWAARTERMIJN_DAG_ID)
#: run ids Airflow generates itself (dag.test, the UI's trigger without an id): no sender's text
_GENERATED_RUN_ID: Final = re.compile(r"^manual__\d{4}-\d{2}-\d{2}T[0-9:.+-]+$")


#: run ids Airflow generates for any run type (``DagRun.generate_run_id``): the type, the
#: logical date or run-after in UTC, and for runs without a logical date 8 random characters;
#: no run of more than 6 digits, so no BSN fits
_BATCH_RUN_ID: Final = re.compile(
    r"^(manual|scheduled|backfill|asset_triggered|asset_materialization)__"
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(\+00:00|Z)?(_[A-Za-z0-9]{8})?$"
)


def beoordeel_batch_run(run_id: object, conf: object, dag_id: str = BATCH_DAG_ID) -> None:
    """A run of intake_batch (or another DAG of :data:`ZONDER_CONF`) may exist: no conf, an Airflow run id."""
    if conf:
        raise OngeldigeConf(f"{dag_id} neemt geen conf")
    if not (isinstance(run_id, str) and _BATCH_RUN_ID.fullmatch(run_id)):
        raise OngeldigeConf(f"run id van {dag_id} moet door Airflow gegenereerd zijn")


def beoordeel_run(run_id: object, conf: object) -> str:
    """The run key if the run may exist: conf is exactly the key, the run id the key or Airflow's own."""
    key = run_key_uit_conf(conf)
    if run_id != key and not (isinstance(run_id, str) and _GENERATED_RUN_ID.fullmatch(run_id)):
        raise OngeldigeConf("run id moet de run key zijn (of door Airflow gegenereerd)")
    return key


def task_instance_mutation_hook(task_instance: Any, dag_run: Any = None) -> None:
    """Airflow's cluster policy: refuse (while created) or scrub (afterwards) a run with a bad conf."""
    dag_id = getattr(dag_run, "dag_id", None) if dag_run is not None else None
    if dag_id != DAG_ID and dag_id not in ZONDER_CONF:
        return
    run_id, conf = getattr(dag_run, "run_id", None), getattr(dag_run, "conf", None)
    try:
        if dag_id == DAG_ID:
            beoordeel_run(run_id, conf)
        else:
            beoordeel_batch_run(run_id, conf, str(dag_id))
    except OngeldigeConf:
        if getattr(dag_run, "conf", None):
            dag_run.conf = {}  # never keep what was sent, whatever happens next
        if getattr(dag_run, "start_date", None) is None:  # being created: refuse, roll everything back
            raise

"""Airflow local settings for nazorg-intake; Airflow imports this from the plugins folder in every process.

It warms the Great Expectations guard in the processes that fork task
processes (the scheduler, whose LocalExecutor workers fork each task, and a
Celery worker), so the per-melding ``bewaak`` task does not pay the ~5 s
``import great_expectations`` on every run; likewise the policy's lookup
rules (sqlglot), which every task's runtime loads (:func:`nazorg.wiring.warm`).
The dag-processor and api-server are left alone, so DAG parsing stays light.
``NAZORG_WARM_GUARD=0`` turns it off.

It also installs the cluster policy ``task_instance_mutation_hook``
(:mod:`nazorg.airflow.conf_guard`): a run of the eerstedagsmelding DAG whose conf
is anything but ``{"run_key": <key>}`` is refused while it is created (HTTP 400,
nothing stored), and scrubbed if one ever exists; likewise a run of intake_batch,
laatstedagsmelding or rapportage with any conf or a run id Airflow did not generate.
``__all__`` keeps Airflow from copying the other names of this module into ``airflow.settings``.
"""

from __future__ import annotations

import os
import sys

from nazorg.airflow.conf_guard import task_instance_mutation_hook

__all__ = ["task_instance_mutation_hook"]


def _forks_task_processes() -> bool:
    args = sys.argv[1:3]
    return bool(args) and (args[0] == "scheduler" or args == ["celery", "worker"])


if os.environ.get("NAZORG_WARM_GUARD", "1") != "0" and _forks_task_processes():
    from nazorg.guard import warm
    from nazorg.wiring import warm as warm_runtime

    warm()
    warm_runtime()

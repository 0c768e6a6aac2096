"""Task bodies for the eerstedagsmelding DAG.

A run's conf is exactly ``{"run_key": <key>}`` (:mod:`nazorg.run_key`): the
opaque key the pipeline DB gave the melding, never the sender's melding id.
These functions check the conf, derive the trace id from the run id and hand
over to :mod:`nazorg.pipeline` with the process's :class:`~nazorg.wiring.Runtime`,
which finds the melding through the key. A conf with any other key, or a
malformed key, fails the task at once, without repeating what was sent (the
trigger is refused before that already: see ``plugins/airflow_local_settings.py``).

They return nothing: even a count (how many checks ran for this person) can
reveal whether consent was given, so no XCom is written at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from nazorg.models import Aandachtsgebied
from nazorg.run_key import run_key_uit_conf

if TYPE_CHECKING:
    from nazorg.wiring import Runtime


def run_key_from(dag_run: object) -> str:
    """The run key of the run's conf; :class:`~nazorg.run_key.OngeldigeConf` names no value."""
    conf = getattr(dag_run, "conf", None)
    return run_key_uit_conf(dict(conf) if isinstance(conf, Mapping) else conf)


def _runtime() -> Runtime:
    from nazorg.wiring import runtime

    return runtime()


def ontvang(dag_run: object) -> None:
    from nazorg import pipeline

    pipeline.ontvang(_runtime(), run_key_from(dag_run))


def plan(dag_run: object) -> None:
    from nazorg import pipeline

    pipeline.plan(_runtime(), run_key_from(dag_run))


def checks(dag_run: object, run_id: str, aandachtsgebied: str) -> None:
    from nazorg import pipeline
    from nazorg.processing_log import trace_id_for

    pipeline.voer_checks_uit(
        _runtime(), run_key_from(dag_run), Aandachtsgebied(aandachtsgebied), trace_id_for(run_id)
    )


def basisdocument(dag_run: object) -> None:
    from nazorg import pipeline

    pipeline.stel_basisdocument_op(_runtime(), run_key_from(dag_run))


def bewaak(dag_run: object) -> None:
    from nazorg import pipeline

    pipeline.bewaak(_runtime(), run_key_from(dag_run))


def publiceer(dag_run: object) -> None:
    from nazorg import pipeline

    pipeline.publiceer(_runtime(), run_key_from(dag_run))

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

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from nazorg.models import Aandachtsgebied, Fase
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


def _stap(dag_run: object, fase: Fase, step: Callable[[Runtime, str], object]) -> None:
    """Run one pipeline step; a runtime that cannot be built fails the melding closed as well.

    The step itself ends the melding in a terminal state on any error
    (:mod:`nazorg.pipeline`); this covers the configuration failing before it
    (a besluit edited into an invalid state between two tasks of a run). A conf
    without a well-formed run key fails at once: there is no melding to close.
    """
    from nazorg import pipeline

    run_key = run_key_from(dag_run)
    try:
        rt = _runtime()
    except Exception as exc:
        pipeline.mislukt_zonder_runtime(run_key, fase, exc)
    step(rt, run_key)


def ontvang(dag_run: object) -> None:
    """Take the melding; when a batch chunk holds it, the run is skipped, not failed.

    The intake API triggers a run and the hourly batch sweeps every ``ontvangen``
    melding, so a batch may take a melding between its trigger and its first task.
    The batch then publishes it; this run has nothing left to do, and a failed run
    would page an operator over a melding that is in good hands.
    """
    from nazorg import pipeline

    try:
        _stap(dag_run, Fase.ONTVANG, pipeline.ontvang)
    except pipeline.InBatch as exc:
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException(str(exc)) from None


def plan(dag_run: object) -> None:
    from nazorg import pipeline

    _stap(dag_run, Fase.PLAN, pipeline.plan)


def checks(dag_run: object, run_id: str, aandachtsgebied: str) -> None:
    from nazorg import pipeline
    from nazorg.processing_log import trace_id_for

    gebied, trace_id = Aandachtsgebied(aandachtsgebied), trace_id_for(run_id)
    _stap(dag_run, Fase.CHECK, lambda rt, key: pipeline.voer_checks_uit(rt, key, gebied, trace_id))


def basisdocument(dag_run: object) -> None:
    from nazorg import pipeline

    _stap(dag_run, Fase.BASISDOCUMENT, pipeline.stel_basisdocument_op)


def bewaak(dag_run: object) -> None:
    from nazorg import pipeline

    _stap(dag_run, Fase.BEWAAK, pipeline.bewaak)


def publiceer(dag_run: object) -> None:
    from nazorg import pipeline

    _stap(dag_run, Fase.PUBLICEER, pipeline.publiceer)

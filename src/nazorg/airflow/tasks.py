"""Task bodies for the eerstedagsmelding DAG.

A run's conf carries the melding id and nothing else; these functions read it,
derive the trace id from the run id and hand over to :mod:`nazorg.pipeline`
with the process's :class:`~nazorg.wiring.Runtime`. They return nothing: even a
count (how many checks ran for this person) can reveal whether consent was
given, so no XCom is written at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from nazorg.intake import DIGIT_RUN, MELDING_ID
from nazorg.models import Aandachtsgebied, Fase

if TYPE_CHECKING:
    from nazorg.wiring import Runtime


def melding_id_from(params: Mapping[str, Any]) -> str:
    value = params.get("melding_id")
    if not isinstance(value, str) or not MELDING_ID.match(value) or DIGIT_RUN.search(value):
        # never echo the value: a wrongly filled conf could hold a BSN
        raise ValueError("conf.melding_id ontbreekt of heeft een ongeldig formaat")
    return value


def _runtime() -> Runtime:
    from nazorg.wiring import runtime

    return runtime()


def _stap(params: Mapping[str, Any], fase: Fase, step: Callable[[Runtime, str], object]) -> None:
    """Run one pipeline step; a runtime that cannot be built fails the melding closed as well.

    The step itself ends the melding in a terminal state on any error
    (:mod:`nazorg.pipeline`); this covers the configuration failing before it
    (a besluit edited into an invalid state between two tasks of a run).
    """
    from nazorg import pipeline

    melding_id = melding_id_from(params)
    try:
        rt = _runtime()
    except Exception as exc:
        pipeline.mislukt_zonder_runtime(melding_id, fase, exc)
    step(rt, melding_id)


def ontvang(params: Mapping[str, Any]) -> None:
    from nazorg import pipeline

    _stap(params, Fase.ONTVANG, pipeline.ontvang)


def plan(params: Mapping[str, Any]) -> None:
    from nazorg import pipeline

    _stap(params, Fase.PLAN, pipeline.plan)


def checks(params: Mapping[str, Any], run_id: str, aandachtsgebied: str) -> None:
    from nazorg import pipeline
    from nazorg.processing_log import trace_id_for

    gebied, trace_id = Aandachtsgebied(aandachtsgebied), trace_id_for(run_id)
    _stap(params, Fase.CHECK, lambda rt, m: pipeline.voer_checks_uit(rt, m, gebied, trace_id))


def basisdocument(params: Mapping[str, Any]) -> None:
    from nazorg import pipeline

    _stap(params, Fase.BASISDOCUMENT, pipeline.stel_basisdocument_op)


def bewaak(params: Mapping[str, Any]) -> None:
    from nazorg import pipeline

    _stap(params, Fase.BEWAAK, pipeline.bewaak)


def publiceer(params: Mapping[str, Any]) -> None:
    from nazorg import pipeline

    _stap(params, Fase.PUBLICEER, pipeline.publiceer)

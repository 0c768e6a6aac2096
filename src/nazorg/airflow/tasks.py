"""Task bodies for the eerstedagsmelding DAG.

A run's conf carries the melding id and nothing else; these functions read it,
derive the trace id from the run id and hand over to :mod:`nazorg.pipeline`
with the process's :class:`~nazorg.wiring.Runtime`. They return nothing: even a
count (how many checks ran for this person) can reveal whether consent was
given, so no XCom is written at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nazorg.intake import DIGIT_RUN, MELDING_ID
from nazorg.models import Aandachtsgebied

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


def ontvang(params: Mapping[str, Any]) -> None:
    from nazorg import pipeline

    pipeline.ontvang(_runtime(), melding_id_from(params))


def plan(params: Mapping[str, Any]) -> None:
    from nazorg import pipeline

    pipeline.plan(_runtime(), melding_id_from(params))


def checks(params: Mapping[str, Any], run_id: str, aandachtsgebied: str) -> None:
    from nazorg import pipeline
    from nazorg.processing_log import trace_id_for

    pipeline.voer_checks_uit(
        _runtime(), melding_id_from(params), Aandachtsgebied(aandachtsgebied), trace_id_for(run_id)
    )


def basisdocument(params: Mapping[str, Any]) -> None:
    from nazorg import pipeline

    pipeline.stel_basisdocument_op(_runtime(), melding_id_from(params))


def bewaak(params: Mapping[str, Any]) -> None:
    from nazorg import pipeline

    pipeline.bewaak(_runtime(), melding_id_from(params))


def publiceer(params: Mapping[str, Any]) -> None:
    from nazorg import pipeline

    pipeline.publiceer(_runtime(), melding_id_from(params))

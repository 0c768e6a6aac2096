"""The guard ("bewaak"): validate an assembled basisdocument before it leaves.

The basisdocument is checked against the Great Expectations suite in
``expectations/<suite_name>.json`` (generated from the register, the enums and
the intake by :mod:`nazorg.guard_suite`, committed as the reviewed artefact) so
that over-collection (an extra column, a BSN-like digit run, free text where a
team name belongs, an unknown check) is blocked by the pipeline itself rather
than by a reviewer.

A verdict names WHICH expectation failed on WHICH column and nothing else: the
offending values may be a BSN or health data, so they are never copied out of
the frame. GX runs with ``result_format="BOOLEAN_ONLY"`` so it does not collect
unexpected values in the first place, its logger is silenced (its exception
messages can quote data), and any error inside GX blocks (fail closed).

Great Expectations costs seconds to import, so it is imported lazily on the
first call and the context, batch definition and suite are cached per process
(per expectations directory and suite name, so a process that is pointed at
another project does not validate against the first project's suite);
importing this module imports neither GX nor pandas.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nazorg.guard_suite import BASISDOCUMENT_COLUMNS as BASISDOCUMENT_COLUMNS
from nazorg.settings import settings

if TYPE_CHECKING:
    import pandas as pd

GUARD_ERROR = "guard_error"
"""Failure.expectation when the guard itself could not decide; always blocks."""

_SUITE_NAME = re.compile(r"^[a-z0-9_]{1,64}$")
_GX_LOGGER = "great_expectations"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failure:
    """One failed expectation: its type and the column it guards (None: table-level)."""

    expectation: str
    column: str | None


@dataclass(frozen=True)
class GuardVerdict:
    """Outcome of one validation; carries no values from the frame."""

    passed: bool
    failures: tuple[Failure, ...]
    evaluated: int


_BLOCKED = GuardVerdict(passed=False, failures=(Failure(GUARD_ERROR, None),), evaluated=0)


@dataclass(frozen=True)
class _Runner:
    batch_definition: Any
    suite: Any
    expected: int


_LOCK = threading.RLock()
_CONTEXT: Any = None
_RUNNERS: dict[tuple[Path, str], _Runner] = {}


def _suite_path_name(suite_name: str) -> str:
    if not _SUITE_NAME.match(suite_name):
        raise ValueError("suite_name: alleen kleine letters, cijfers en _")
    return suite_name


def load_suite_dict(suite_name: str = "basisdocument", directory: Path | None = None) -> dict[str, Any]:
    """The suite JSON as a plain dict (no GX import), from ``directory`` or the configured one."""
    path = (directory or settings().expectations_dir) / f"{_suite_path_name(suite_name)}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("name") != suite_name:
        raise ValueError(f"{path}: geen expectation suite met naam {suite_name}")
    return data


def suite_value_sets(suite_name: str = "basisdocument", directory: Path | None = None) -> dict[str, set[str]]:
    """Column -> allowed values, from every expect_column_values_to_be_in_set in the suite.

    For consistency tests against the register and the enums; reads the JSON only.
    """
    sets: dict[str, set[str]] = {}
    for expectation in load_suite_dict(suite_name, directory)["expectations"]:
        if expectation["type"] == "expect_column_values_to_be_in_set":
            kwargs = expectation["kwargs"]
            sets.setdefault(kwargs["column"], set()).update(kwargs["value_set"])
    return sets


def _quiet_gx() -> None:
    """No usage statistics, no progress bars, no GX log lines (they can quote data)."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    gx_logger = logging.getLogger(_GX_LOGGER)
    gx_logger.setLevel(logging.CRITICAL)
    gx_logger.propagate = False


def _context() -> Any:
    global _CONTEXT
    if _CONTEXT is None:
        _quiet_gx()
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        )
        _CONTEXT = gx.get_context(mode="ephemeral", project_config=config)
    return _CONTEXT


def _runner(suite_name: str) -> _Runner:
    directory = settings().expectations_dir.resolve()
    key = (directory, _suite_path_name(suite_name))
    cached = _RUNNERS.get(key)
    if cached is not None:
        return cached
    context = _context()
    import great_expectations as gx

    suite = gx.ExpectationSuite(**load_suite_dict(suite_name, directory))
    # one datasource per runner: reusing a name would replace the one an earlier runner holds
    datasource = context.data_sources.add_or_update_pandas(f"nazorg_guard_{suite_name}_{len(_RUNNERS)}")
    asset = datasource.add_dataframe_asset(suite_name)
    batch_definition = asset.add_batch_definition_whole_dataframe("geheel")
    runner = _Runner(batch_definition, suite, expected=len(suite.expectations))
    _RUNNERS[key] = runner
    return runner


def warm(suite_name: str = "basisdocument") -> None:
    """Import GX and build the suite's runner now, in a process that later forks task processes.

    ``import great_expectations`` costs about 5 s in every fresh process; a
    forked child inherits the warmed module and runner instead (see
    ``plugins/airflow_local_settings.py``).
    """
    import pandas  # noqa: F401 - part of what a validation needs

    with _LOCK:
        _runner(suite_name)


def _raised(exception_info: object) -> bool:
    """GX nests exception_info per metric for some expectations; look everywhere."""
    if isinstance(exception_info, Mapping):
        if exception_info.get("raised_exception"):
            return True
        return any(_raised(value) for value in exception_info.values())
    return False


def _column_of(kwargs: Mapping[str, Any]) -> str | None:
    column = kwargs.get("column")
    if isinstance(column, str):
        return column
    columns = kwargs.get("column_list")
    if isinstance(columns, list | tuple) and all(isinstance(c, str) for c in columns):
        return ",".join(columns)
    return None


def _verdict(result: Any, expected: int) -> GuardVerdict:
    failures: list[Failure] = []
    broken = False
    evaluated = 0
    for item in result.results:
        evaluated += 1
        config = item.expectation_config
        if _raised(item.exception_info):
            broken = True
        if item.success is not True:
            failures.append(Failure(str(config.type), _column_of(config.kwargs)))
    if evaluated != expected or (result.success is not True and not failures):
        broken = True
    if broken:
        failures.append(Failure(GUARD_ERROR, None))
    unique = tuple(dict.fromkeys(failures))
    passed = result.success is True and not unique
    return GuardVerdict(passed=passed, failures=unique, evaluated=evaluated)


def validate_frame(frame: pd.DataFrame, suite_name: str = "basisdocument") -> GuardVerdict:
    """Validate a basisdocument frame; a pass is the only verdict that lets it through.

    Any exception (suite missing or unreadable, GX error, not a DataFrame) gives
    a failed verdict with ``Failure("guard_error", None)``; only the exception's
    class name is logged, never its message.
    """
    try:
        import pandas

        if not isinstance(frame, pandas.DataFrame):
            raise TypeError("frame is geen pandas.DataFrame")
        with _LOCK:
            runner = _runner(suite_name)
            batch = runner.batch_definition.get_batch(batch_parameters={"dataframe": frame})
            result = batch.validate(runner.suite, result_format="BOOLEAN_ONLY")
            verdict = _verdict(result, runner.expected)
    except Exception as exc:
        log.error("bewaak: validatie mislukt (%s); basisdocument tegengehouden", type(exc).__name__)
        return _BLOCKED
    if not verdict.passed:
        log.warning(
            "bewaak: basisdocument tegengehouden: %s",
            ", ".join(f"{f.expectation}[{f.column or '-'}]" for f in verdict.failures),
        )
    return verdict

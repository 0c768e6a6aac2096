"""The one place that assembles a deployment: settings, pipeline store, policy and sources.

Why: the task adapter, the CLI and the tests each need the same three things, and
each used to build them its own way (a policy cached across commands, sources
hard-wired in the task adapter). A :class:`Runtime` is built once per process by
:func:`runtime` for the live deployment, or by :func:`build` with other settings or
other sources (a test passes fakes; the demo points the live adapters at the
simulator through connections, so "simulated" is a configuration, not a code path).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from nazorg.connections import NAZORG_DB
from nazorg.settings import Settings, settings

if TYPE_CHECKING:
    from nazorg.register import Policy
    from nazorg.sources.kinds import Sources
    from nazorg.sources.live import LiveSources
    from nazorg.store import Store

SourcesFactory = Callable[[], AbstractContextManager["Sources"]]


@dataclass(frozen=True)
class Runtime:
    """What a pipeline step needs besides the melding id."""

    settings: Settings
    store: Store
    policy: Policy
    open_sources: SourcesFactory


@dataclass(frozen=True)
class LiveSourcesFactory:
    """Opens each register source kind's registered adapter (SQL, Haal Centraal over HTTP...) per task.

    A class rather than a closure so ``nazorg batch`` can recognise live sources
    and keep one set open across its chunks (:func:`nazorg.batch.runner.run_batch`).
    """

    config: Settings

    def __call__(self) -> LiveSources:
        from nazorg.sources.live import LiveSources

        return LiveSources(self.config)


def live_sources(config: Settings) -> SourcesFactory:
    """Each register source kind's registered adapter (SQL, Haal Centraal over HTTP...), opened per task."""
    return LiveSourcesFactory(config)


def build(
    config: Settings | None = None,
    *,
    store: Store | None = None,
    sources: SourcesFactory | None = None,
    db_conn_id: str = NAZORG_DB,
) -> Runtime:
    """A runtime from explicit parts; what is not given comes from ``config``."""
    from nazorg.register import load_policy
    from nazorg.store import Store

    config = config or settings()
    return Runtime(
        settings=config,
        store=store or Store.from_connection(db_conn_id, config),
        policy=load_policy(config.register_dir, config.sql_dir, config.register_uri),
        open_sources=sources or live_sources(config),
    )


@cache
def runtime() -> Runtime:
    """The live runtime of this process (tasks and CLI commands), built on first use."""
    return build()


def warm() -> None:
    """Load the configured policy once in a process that later forks task processes.

    Every task builds its runtime, and the first policy load in a process pays
    for importing sqlglot and its dialects (the lookup rules) on top of the
    register itself: ~0.25 s of CPU per task, eleven tasks per melding, six of
    them at once on two cores. A forked child inherits the imported modules and
    loads the policy in ~0.02 s. The policy itself is not cached: each runtime
    still reads the register as it is now. A register that does not load is
    left for the task to report (with its reason code), not the scheduler.
    """
    from nazorg.register import load_policy

    config = settings()
    with contextlib.suppress(Exception):  # the task that needs the policy reports the problem
        load_policy(config.register_dir, config.sql_dir, config.register_uri)


def reset() -> None:
    """Forget the process's runtime (after the environment changed, in tests)."""
    runtime.cache_clear()

"""The real :class:`~nazorg.sources.kinds.Sources`: the registered adapter of each kind, opened per task.

An adapter is created the first time a check asks its kind, keeps its clients
(HTTP connections, prepared queries) for the rest of the task, and is closed
with it. Which class serves a kind is the registry's business
(:mod:`nazorg.sources.kinds`), so a new kind needs no change here.
"""

from __future__ import annotations

from types import TracebackType

from nazorg.settings import Settings
from nazorg.sources.kinds import SourceAdapter, adapter_class


class LiveSources:
    def __init__(self, config: Settings) -> None:
        self._config = config
        self._adapters: dict[str, SourceAdapter] = {}

    def __enter__(self) -> LiveSources:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def adapter(self, kind: str) -> SourceAdapter:
        if kind not in self._adapters:
            self._adapters[kind] = adapter_class(kind)(self._config)
        return self._adapters[kind]

    def close(self) -> None:
        adapters, self._adapters = list(self._adapters.values()), {}
        for adapter in adapters:
            adapter.close()

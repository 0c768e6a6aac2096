"""The real :class:`~nazorg.sources.kinds.Sources`: the registered adapter of each kind, opened per task.

An adapter is created the first time a check asks its kind, keeps its clients
(HTTP connections, prepared queries) for the rest of the task, and is closed
with it. The task's time for source questions (``check_task_deadline_s``)
starts when the sources are opened; every adapter gets that deadline, so a
question asked after it has passed is onbekend (``bron_timeout``) at once and
the task ends well before Airflow's ``execution_timeout`` would kill it.
Which class serves a kind is the registry's business
(:mod:`nazorg.sources.kinds`), so a new kind needs no change here.

``nazorg batch`` runs many chunks in one process: it keeps one instance open
for all of them (:meth:`LiveSources.nieuwe_taak` gives each chunk a fresh
deadline) so the HTTP connections and approved queries outlive a chunk.
"""

from __future__ import annotations

from types import TracebackType

from nazorg.settings import Settings
from nazorg.sources.deadline import Deadline
from nazorg.sources.kinds import SourceAdapter, adapter_class


class LiveSources:
    def __init__(self, config: Settings) -> None:
        self._config = config
        self._adapters: dict[str, SourceAdapter] = {}
        self.task_deadline = Deadline.after(config.check_task_deadline_s)

    def __enter__(self) -> LiveSources:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def adapter(self, kind: str) -> SourceAdapter:
        if kind not in self._adapters:
            adapter = adapter_class(kind)(self._config)
            adapter.task_deadline = self.task_deadline
            self._adapters[kind] = adapter
        return self._adapters[kind]

    def nieuwe_taak(self) -> None:
        """A new task starts with these sources still open: its own deadline, the clients kept."""
        self.task_deadline = Deadline.after(self._config.check_task_deadline_s)
        for adapter in self._adapters.values():
            adapter.task_deadline = self.task_deadline

    def close(self) -> None:
        adapters, self._adapters = list(self._adapters.values()), {}
        for adapter in adapters:
            adapter.close()

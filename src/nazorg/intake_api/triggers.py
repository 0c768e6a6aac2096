"""Starting a stored melding's run, with retries while Airflow is away.

Why in the background: the sender's request should not wait for Airflow, and a
melding must never be lost because Airflow was down. The melding is in the
inbox (status ``ontvangen``) before its trigger is tried, so the trigger is
only the fast path:

* the request waits at most ``wacht_s`` for the first try and otherwise
  answers "uitgesteld" (deferred); the try goes on without it;
* a failed try (Airflow down, a 5xx, a timeout, no credentials yet) is tried
  again after ``backoff_s * 2**n`` seconds, at most ``backoff_max_s``, up to
  ``pogingen`` tries in all;
* before every try the inbox is asked whether the melding still waits
  (``ontvangen``, no live claim): the batch DAG (``intake_batch``, hourly by
  default) claims every ``ontvangen`` melding itself, so once it has, a late
  per-melding run would only compete with it;
* after the last try, or when the service stops, the melding is left to that
  batch sweep; nothing is kept only in memory.

A try is idempotent: the run id is the melding's run key, and Airflow answers
409 for a run id it has (``bestond_al``). Logs name run keys (opaque, random)
and exception types only.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from nazorg.store import Store

log = logging.getLogger(__name__)


class TriggerStatus(StrEnum):
    GESTART = "gestart"  # Airflow created the run
    BESTOND_AL = "bestond_al"  # Airflow had the run already (409)
    UITGESTELD = "uitgesteld"  # not (yet) confirmed: retried in the background, else the batch sweep
    NIET_NODIG = "niet_nodig"  # the melding is no longer waiting (a run or a batch has it)


TriggerFn = Callable[[str], Literal["created", "exists"]]
"""Start the run of a run key once; raises when that did not work."""
NogNodigFn = Callable[[str], bool]
"""Whether the melding of a run key still waits for a run."""


@dataclass(order=True)
class _Taak:
    due: float
    seq: int
    run_key: str = field(compare=False)
    poging: int = field(default=0, compare=False)
    klaar: threading.Event = field(default_factory=threading.Event, compare=False)
    status: TriggerStatus = field(default=TriggerStatus.UITGESTELD, compare=False)


class TriggerWachtrij:
    """One worker thread that starts runs and retries the failed ones with bounded backoff."""

    def __init__(
        self,
        trigger: TriggerFn,
        nog_nodig: NogNodigFn,
        *,
        backoff_s: float,
        backoff_max_s: float,
        pogingen: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._trigger = trigger
        self._nog_nodig = nog_nodig
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.pogingen = max(1, pogingen)
        self._clock = clock
        self._cond = threading.Condition()
        self._heap: list[_Taak] = []
        self._open: dict[str, _Taak] = {}  # run key -> its pending task (one per key)
        self._seq = itertools.count()
        self._stop = False
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stop = False
            self._thread = threading.Thread(target=self._loop, name="nazorg-intake-trigger", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the worker; pending meldingen stay ``ontvangen`` for the batch sweep."""
        with self._cond:
            self._stop = True
            thread, self._thread = self._thread, None
            self._cond.notify_all()
        if thread is not None:
            thread.join(timeout_s)
        if self._open:
            log.warning(
                "%d trigger(s) nog open bij stoppen; de batch-DAG pakt die meldingen op", len(self._open)
            )

    # -- use -------------------------------------------------------------------

    def dien_in(self, run_key: str, wacht_s: float) -> TriggerStatus:
        """Queue the run of ``run_key``; its status if known within ``wacht_s``, else uitgesteld."""
        with self._cond:
            if run_key in self._open:  # already queued (a repeated submission): one try at a time
                return TriggerStatus.UITGESTELD
            taak = _Taak(self._clock(), next(self._seq), run_key)
            self._open[run_key] = taak
            heapq.heappush(self._heap, taak)
            self._cond.notify_all()
        taak.klaar.wait(wacht_s)
        return taak.status if taak.klaar.is_set() else TriggerStatus.UITGESTELD

    def open(self) -> list[str]:
        """Run keys still waiting for a (re)try."""
        with self._cond:
            return list(self._open)

    # -- the worker ------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stop and not (self._heap and self._heap[0].due <= self._clock()):
                    wait = self._heap[0].due - self._clock() if self._heap else None
                    self._cond.wait(wait)
                if self._stop:
                    return
                taak = heapq.heappop(self._heap)
            self._probeer(taak)

    def _af(self, taak: _Taak, status: TriggerStatus) -> None:
        with self._cond:
            self._open.pop(taak.run_key, None)
        taak.status = status
        taak.klaar.set()

    def _probeer(self, taak: _Taak) -> None:
        try:
            nodig = self._nog_nodig(taak.run_key)
        except Exception as exc:  # the database away too: try the trigger anyway (idempotent)
            log.warning("inbox niet te lezen voor trigger van %s (%s)", taak.run_key, type(exc).__name__)
            nodig = True
        if not nodig:
            self._af(taak, TriggerStatus.NIET_NODIG)
            return
        try:
            result = self._trigger(taak.run_key)
        except (Exception, SystemExit) as exc:  # api_from_env exits when Airflow is not configured
            taak.poging += 1
            if taak.poging >= self.pogingen:
                log.warning(
                    "trigger van %s opgegeven na %d pogingen (%s); de batch-DAG pakt de melding op",
                    taak.run_key,
                    taak.poging,
                    type(exc).__name__,
                )
                self._af(taak, TriggerStatus.UITGESTELD)
                return
            delay = min(self.backoff_s * 2 ** (taak.poging - 1), self.backoff_max_s)
            log.warning(
                "trigger van %s mislukt (%s); opnieuw over %.1f s (poging %d van %d)",
                taak.run_key,
                type(exc).__name__,
                delay,
                taak.poging + 1,
                self.pogingen,
            )
            taak.klaar.set()  # the waiting request answers uitgesteld now
            with self._cond:
                taak.due = self._clock() + delay
                heapq.heappush(self._heap, taak)
                self._cond.notify_all()
            return
        self._af(taak, TriggerStatus.GESTART if result == "created" else TriggerStatus.BESTOND_AL)


def airflow_trigger(timeout_s: float) -> TriggerFn:
    """Trigger through the Airflow REST API v2 (nazorg.airflow.trigger), one try per call.

    The client is built on first use and dropped after a failure, so credentials
    that appear or change later (``make up`` writes them) are picked up.
    """
    from nazorg.airflow.rest import AirflowApi
    from nazorg.airflow.trigger import DAG_ID, api_from_env, run_id_for
    from nazorg.run_key import CONF_KEY

    state: dict[str, AirflowApi] = {}

    def trigger(run_key: str) -> Literal["created", "exists"]:
        api = state.get("api")
        if api is None:
            try:
                api = state["api"] = api_from_env(timeout=timeout_s)
            except SystemExit:
                raise RuntimeError("geen Airflow-verbinding ingesteld") from None
        try:
            return api.trigger(DAG_ID, run_id_for(run_key), {CONF_KEY: run_key}, attempts=1)
        except BaseException:
            state.pop("api", None)
            api.close()
            raise

    return trigger


def inbox_nog_nodig(store: Store) -> NogNodigFn:
    """Asks the inbox whether a run key's melding still waits (``ontvangen``, no live claim)."""
    from nazorg.models import MeldingStatus
    from nazorg.store import now

    def nog_nodig(run_key: str) -> bool:
        rows = store.query(
            "intake_api/trigger_nodig",
            {"run_key": run_key, "ontvangen": MeldingStatus.ONTVANGEN.value, "nu": now()},
        )
        return bool(rows)

    return nog_nodig

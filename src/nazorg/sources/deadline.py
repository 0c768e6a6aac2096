"""A deadline: the moment by which a source must have answered, whatever it does meanwhile.

Why a moment and not a timeout: a timeout bounds one wait (one socket read,
one statement), so a source that answers slowly but steadily (a byte every
three seconds, a query that fetches in many small steps, a retry after every
failure) never trips it and holds the task for as long as it likes. A
deadline is fixed once, on the monotonic clock, and every step (connect,
query, each read, each retry, each backoff sleep) asks how much time is
*left*. Nested limits combine by taking the earliest (:meth:`Deadline.earliest`):
a check's own limit and what is left of its task's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point on :func:`time.monotonic`'s clock; immutable, so it can be shared by threads."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """The deadline ``seconds`` from now."""
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def earliest(self, other: Deadline | None) -> Deadline:
        """The stricter of the two (``other`` None: this one)."""
        return self if other is None or self.at <= other.at else other

    def within(self, seconds: float) -> Deadline:
        """This deadline, or ``seconds`` from now if that comes first."""
        return self.earliest(Deadline.after(seconds))

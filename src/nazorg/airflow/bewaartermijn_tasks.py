"""Task body of the bewaartermijn DAG: counts per category out, nothing else.

The logic is :mod:`nazorg.bewaartermijn`; this adapter only supplies the
runtime, the clock and the dry-run setting (``NAZORG_BEWAARTERMIJN_DRY_RUN``).
The XCom it returns holds counts per category and whether it was a dry run:
never a melding id, a BSN, a pseudonym or an outcome. Imported inside the
task, never at parse time.
"""

from __future__ import annotations

from datetime import UTC, datetime


def ruim_op() -> dict[str, int]:
    """One retention run for today; the counts (also logged by the library) as the task's XCom."""
    from nazorg.bewaartermijn import voer_uit
    from nazorg.wiring import runtime

    rt = runtime()
    droog = rt.settings.bewaartermijn_dry_run
    rapport = voer_uit(rt.store, rt.policy.register, rt.settings, nu=datetime.now(UTC), droog=droog)
    return {"droog": int(droog), **rapport.voor_xcom()}

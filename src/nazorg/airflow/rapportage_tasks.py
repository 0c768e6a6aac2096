"""Task body for the rapportage DAG: a moment in, counts out, the report on disk.

The task passes on (XCom) only how many gemeenten, months, tables and charts
the report holds, and how many tables were withheld: never a count of
outcomes, which lives in the report file alone (suppressed, see
:mod:`nazorg.rapportage.onderdrukking`). Imported inside the task, never at
parse time (the report pulls in the store, Jinja2 and matplotlib).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

log = logging.getLogger(__name__)


def maak_rapport(moment: datetime | None) -> dict[str, int]:
    """Write the report of the last month closed at ``moment`` (the run's ``run_after``; now if None).

    The month follows from the run, not from the clock at execution, so a
    retried or re-run task writes the same month's report again (replacing the
    file). Every gemeente with a besluit; the trend window is ``NAZORG_RAPPORTAGE_MAANDEN``.
    """
    from nazorg.rapportage.rapport import maak_rapport as maak
    from nazorg.rapportage.tellingen import Maand
    from nazorg.wiring import runtime

    rt = runtime()
    maand = Maand.laatst_afgesloten(moment or datetime.now(UTC))
    resultaat = maak(rt.store, rt.policy, maand, rt.settings.rapportage_maanden, rt.settings.rapportage_map())
    tellingen = resultaat.voor_xcom()
    log.info(
        "rapportage %s: %s (%d gemeenten, %d maanden, %d van %d tabellen achtergehouden, %d grafieken)",
        maand.label,
        resultaat.pad,
        tellingen["gemeenten"],
        tellingen["maanden"],
        tellingen["tabellen_achtergehouden"],
        tellingen["tabellen"],
        tellingen["grafieken"],
    )
    return tellingen

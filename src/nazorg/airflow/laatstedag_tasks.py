"""Task bodies for the laatstedagsmelding DAG: no input, counts of laatstedagsmeldingen out.

Both tasks take nothing from the run (no conf: the cluster policy refuses one)
and return nothing. The log gets counts of laatstedagsmeldingen only; the
inseinen sweep logs no count at all, since each of its notifications is a
``doelgroep_topx`` ja. Whether a task fails depends on the configuration (the
notifier is checked first, every run alike) and the pipeline DB, never on what
anyone answered: a failed send is recorded in ``notificatie`` and retried.
Imported inside the tasks, never at parse time.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nazorg.notificatie import Notifier
    from nazorg.wiring import Runtime

log = logging.getLogger(__name__)


def _runtime_en_notifier() -> tuple[Runtime, Notifier]:
    from nazorg.notificatie import notifier_voor
    from nazorg.wiring import runtime

    rt = runtime()
    notifier = notifier_voor(rt.settings)
    notifier.controleer()  # a configuration that cannot send fails every run alike
    return rt, notifier


def verwerk_laatstedagsmeldingen() -> None:
    from nazorg import laatstedag
    from nazorg.store import now

    rt, notifier = _runtime_en_notifier()
    telling = laatstedag.verwerk(
        rt.store, rt.policy, notifier, max_pogingen=rt.settings.notificatie_max_pogingen, nu=now
    )
    log.info(
        "laatstedagsmeldingen: %d verwerkt, %d wachtend, %d mislukt",
        telling.verwerkt,
        telling.wachtend,
        telling.mislukt,
    )


def inseinen() -> None:
    from nazorg import laatstedag
    from nazorg.store import now

    rt, notifier = _runtime_en_notifier()
    laatstedag.inseinen(
        rt.store, rt.policy, notifier, max_pogingen=rt.settings.notificatie_max_pogingen, nu=now
    )
    log.info("inseinen: klaar (geen aantallen: elk bericht is een top-x-ja; zie tabel notificatie)")

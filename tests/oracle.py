"""What every check must answer for a synthetic person: an oracle independent of the pipeline.

It reads the synthetic population's ground truth (what the simulator put in each
source) and states per gemeente which checks its besluit enables; it does not call
the planner or the checks, so a test comparing against it can catch them out.
"""

from __future__ import annotations

from collections.abc import Callable

from nazorg_dev.sim.population import Persoon, by_bsn

# Checks each fictional gemeente's besluit enables (register/besluiten/*.yaml).
ENABLED: dict[str, frozenset[str]] = {
    "9901": frozenset(
        {
            "doelgroep_topx",
            "reclassering",
            "id_bewijs",
            "onderdak",
            "huurschuld",
            "uitkering_reintegratie",
            "uitkering_voorschot",
            "schuld_cjib",
            "schuldhulpverlening",
            "wmo_zorg",
            "ggz_risicoprofiel",
            "tbc_besmetting",
            "kinderen",
        }
    ),
    "9902": frozenset(
        {"huurschuld", "uitkering_reintegratie", "uitkering_voorschot", "tbc_besmetting", "kinderen"}
    ),
}
CONSENT_GATED = frozenset({"huurschuld", "uitkering_voorschot"})

TRUTH: dict[str, Callable[[Persoon], bool | None]] = {
    "doelgroep_topx": lambda p: p.doelgroep_topx,
    "reclassering": lambda p: p.reclassering_betrokken,  # None: not in the melding
    "id_bewijs": lambda p: p.heeft_geldig_id,
    "onderdak": lambda p: p.verblijf == "woonadres",
    "huurschuld": lambda p: p.huurschuld,
    "uitkering_reintegratie": lambda p: p.uitkering or p.reintegratie,
    "uitkering_voorschot": lambda p: p.uitkering,
    "schuld_cjib": lambda p: p.schuld_cjib,
    "schuldhulpverlening": lambda p: p.schuldhulp,
    "wmo_zorg": lambda p: p.wmo,
    "ggz_risicoprofiel": lambda p: p.ggz_risico,
    "tbc_besmetting": lambda p: p.tbc,
    "kinderen": lambda p: p.heeft_minderjarige_kinderen,
}


def expected(check_id: str, bsn: str, gemeente: str) -> tuple[str, str | None]:
    """(uitkomst, reden) the pipeline must publish for this person and check."""
    person = by_bsn()[bsn]
    if check_id not in ENABLED[gemeente]:
        return "niet_uitgevoerd", "niet_in_besluit"
    if check_id in CONSENT_GATED and not person.toestemming_financieel:
        return "niet_uitgevoerd", "geen_toestemming"
    answer = TRUTH[check_id](person)
    if answer is None:
        return "onbekend", "niet_in_melding"
    return ("ja" if answer else "nee"), None

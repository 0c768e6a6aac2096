"""What every check must answer for a synthetic person: an oracle independent of the pipeline.

It reads the synthetic population's ground truth (what the simulator put in each
source) and states per gemeente which checks its besluit enables; it does not call
the planner or the checks, so a test comparing against it can catch them out.

For the BRP-backed checks the truth includes what the BRP says about its own
record (every one of them is registered with ``in_onderzoek: onbekend``): an
opgeschorte persoonslijst is onbekend (persoon_overleden for reden O, else
bijhouding_opgeschort); a BSN in onderzoek is onbekend (bron_in_onderzoek); an
address established not to be lived at is no woonadres; a verblijfplaats, a
kind's geboortedatum or a document's end date in onderzoek leaves that part open.

Every person of the synthetic population is in the BRP; a valid BSN outside it
is a person the BRP does not know, and every BRP-backed check (id_bewijs too:
its nee is confirmed with BRP Personen) is onbekend, persoon_niet_gevonden.
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
    # no beleidsregels of its own: neither huurschuld (Tabel 1: Participatiewet with gemeentelijke
    # beleidsregels bijzondere bijstand) nor uitkering_reintegratie (general check: no basis)
    "9902": frozenset({"uitkering_voorschot", "tbc_besmetting", "kinderen"}),
}
#: register: wanneer: toestemming. The simulator records consent per melding (revision 0009) for
#: every melding in the inbox of a person with toestemming_financieel, after intake
#: (nazorg_dev.sim.bronnen.vul_toestemmingen, which the test worlds call in submit): so "this person
#: consented" stands for "a valid consent covers this melding" only for meldingen submitted that way.
CONSENT_GATED = frozenset({"huurschuld", "uitkering_voorschot"})

Uitslag = tuple[str, str | None]
IN_ONDERZOEK: Uitslag = ("onbekend", "bron_in_onderzoek")


def _janee(answer: bool) -> Uitslag:
    return ("ja" if answer else "nee"), None


def _persoonslijst(p: Persoon) -> Uitslag | None:
    """The record's own signals, which come before any question's answer."""
    if p.opschorting == "O":
        return "onbekend", "persoon_overleden"
    if p.opschorting is not None:
        return "onbekend", "bijhouding_opgeschort"
    if p.bsn_in_onderzoek:
        return IN_ONDERZOEK
    return None


def _onderdak(p: Persoon) -> Uitslag:
    if p.verblijft_niet_op_adres:  # established: no woonadres, whatever is in onderzoek
        return _janee(False)
    if p.verblijfplaats_in_onderzoek:
        return IN_ONDERZOEK
    return _janee(p.verblijf == "woonadres")


def _kinderen(p: Persoon) -> Uitslag:
    vast = [
        age for age, onderzoek in zip(p.kinderen_leeftijd_dagen, p.kinderen_in_onderzoek) if not onderzoek
    ]
    if any(age < 18 * 365 for age in vast):
        return _janee(True)
    return IN_ONDERZOEK if any(p.kinderen_in_onderzoek) else _janee(False)


def _id_bewijs(p: Persoon) -> Uitslag:
    vast = [d for d in p.reisdocumenten if not d.in_onderzoek]
    if any(not d.ingehouden_of_vermist and d.geldig_dagen >= 0 for d in vast):
        return _janee(True)
    return IN_ONDERZOEK if len(vast) < len(p.reisdocumenten) else _janee(False)


def _brp(vraag: Callable[[Persoon], Uitslag]) -> Callable[[Persoon], Uitslag]:
    """The record's signals, then the question.

    For id_bewijs too: a person without documents is still read in BRP Personen
    (which confirms Reisdocumenten' nee), so the persoonslijst's signals apply.
    """

    def uitslag(p: Persoon) -> Uitslag:
        return _persoonslijst(p) or vraag(p)

    return uitslag


NIET_IN_BRP: Uitslag = ("onbekend", "persoon_niet_gevonden")

BRP_TRUTH: dict[str, Callable[[Persoon], Uitslag]] = {
    "id_bewijs": _brp(_id_bewijs),
    "onderdak": _brp(_onderdak),
    "kinderen": _brp(_kinderen),
}

TRUTH: dict[str, Callable[[Persoon], bool | None]] = {
    "doelgroep_topx": lambda p: p.doelgroep_topx,
    "reclassering": lambda p: p.reclassering_betrokken,  # None: not in the melding
    "huurschuld": lambda p: p.huurschuld,
    "uitkering_reintegratie": lambda p: p.uitkering or p.reintegratie,
    # an aanvraag in behandeling and no lopende uitkering (Tabel 2: voorschot in afwachting)
    "uitkering_voorschot": lambda p: p.uitkering_aanvraag == "in_behandeling" and not p.uitkering,
    "schuld_cjib": lambda p: p.schuld_cjib,
    "schuldhulpverlening": lambda p: p.schuldhulp,
    "wmo_zorg": lambda p: p.wmo,
    "ggz_risicoprofiel": lambda p: p.ggz_risico,
    "tbc_besmetting": lambda p: p.tbc,  # a lopende registration; one closed long ago is nee
}


def expected(check_id: str, bsn: str, gemeente: str) -> tuple[str, str | None]:
    """(uitkomst, reden) the pipeline must publish for this person and check.

    A BSN outside the population is a person the BRP does not know; only the
    BRP-backed checks are stated for it (the gemeentelijke sources have no truth
    about it here).
    """
    if check_id not in ENABLED[gemeente]:
        return "niet_uitgevoerd", "niet_in_besluit"
    person = by_bsn().get(bsn)
    if person is None:
        if check_id in BRP_TRUTH:
            return NIET_IN_BRP
        raise KeyError(f"{check_id}: geen grondwaarheid voor een persoon buiten de populatie")
    if check_id in CONSENT_GATED and not person.toestemming_financieel:
        return "niet_uitgevoerd", "geen_toestemming"
    if check_id in BRP_TRUTH:
        return BRP_TRUTH[check_id](person)
    answer = TRUTH[check_id](person)
    if answer is None:
        return "onbekend", "niet_in_melding"
    return ("ja" if answer else "nee"), None

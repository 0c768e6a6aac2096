"""Deterministic synthetic population with realistic rates.

Rates are rough orders of magnitude for a detained population, chosen so that
every outcome occurs in a demo of twenty meldingen; they are not statistics.

Rarer still are the BRP's signals about its own record (a persoonslijst whose
bijhouding is opgeschort, fields in onderzoek, an address established not to be
lived at): about one person in ten has one, so every signal occurs in the
population of 2000 and the clients meet them, while most meldingen in a small
demo stay plain. They come from a separate random stream per person, so adding
them changed nobody's other data.

So do two later additions, each from its own stream too: a person's aanvraag for an
uitkering (in behandeling or afgewezen: the voorschot check asks for one in
behandeling without a lopende uitkering, so it answers independently of the
uitkering check) and a GGD registration that was closed long ago (the tbc check
asks for a lopende one, so such a person is nee).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Final, Literal

DEFAULT_SEED = 20261129
DEFAULT_SIZE = 2000
GEMEENTEN = ("9901", "9902")

Verblijf = Literal["woonadres", "briefadres", "onbekend", "buitenland"]
#: the state of a person's latest aanvraag for an uitkering (None: no aanvraag on file)
Aanvraag = Literal["in_behandeling", "afgewezen"]
#: reden opschorting bijhouding: O overlijden, E emigratie, M ministerieel besluit,
#: R pl is aangelegd in de rni, F fout, . onbekend (the BRP's own table)
OPSCHORTING_REDENEN = {
    "O": "overlijden",
    "E": "emigratie",
    "M": "ministerieel besluit",
    "R": "pl is aangelegd in de rni",
    "F": "fout",
    ".": "onbekend",
}
_OPSCHORTING_CODES: Final = tuple(OPSCHORTING_REDENEN)
_VERBLIJVEN: Final[tuple[Verblijf, ...]] = ("woonadres", "briefadres", "onbekend", "buitenland")


@dataclass(frozen=True, slots=True)
class Reisdocument:
    nummer: str  # ^[A-Z0-9]{9}$
    soort_code: str  # PN paspoort, NI identiteitskaart
    # Dates are stored relative to the day they are looked at, so the synthetic
    # world does not age: a document "valid for 400 more days" stays so.
    geldig_dagen: int  # datumEindeGeldigheid = peildatum + geldig_dagen (negative: verlopen)
    ingehouden_of_vermist: bool
    in_onderzoek: bool = False  # datumEindeGeldigheid is in onderzoek

    def datum_einde_geldigheid(self, peildatum: date) -> date:
        return peildatum + timedelta(days=self.geldig_dagen)


@dataclass(frozen=True, slots=True)
class Persoon:
    bsn: str
    gemeente_code: str
    verblijf: Verblijf
    kinderen_leeftijd_dagen: tuple[int, ...]  # geboortedatum = peildatum - leeftijd
    reisdocumenten: tuple[Reisdocument, ...]
    reclassering_betrokken: bool | None
    # gemeentelijke bronnen
    doelgroep_topx: bool
    maatschappelijke_opvang: bool
    huurschuld: bool
    uitkering: bool
    reintegratie: bool
    schuld_cjib: bool
    schuldhulp: bool
    wmo: bool
    ggz_risico: bool
    tbc: bool  # a lopende (not closed) GGD registration of a besmetting
    toestemming_financieel: bool  # consent for huurschuld and uitkering_voorschot
    # later additions, from their own random stream (see the module docstring)
    uitkering_aanvraag: Aanvraag | None = None
    tbc_afgesloten: bool = False  # a GGD registration closed long ago (next to a lopende one or not)
    # what the BRP says about its own record (rare; see the module docstring)
    opschorting: str | None = None  # a key of OPSCHORTING_REDENEN: bijhouding opgeschort
    bsn_in_onderzoek: bool = False
    verblijfplaats_in_onderzoek: bool = False  # the whole verblijfplaats (aanduiding 080000)
    verblijft_niet_op_adres: bool = False  # established (089999); only at an Adres
    kinderen_in_onderzoek: tuple[bool, ...] = ()  # per kind: its geboortedatum is in onderzoek

    @property
    def heeft_brp_signaal(self) -> bool:
        """The BRP marks something about this person's record (the answers then differ from the truth)."""
        return (
            self.opschorting is not None
            or self.bsn_in_onderzoek
            or self.verblijfplaats_in_onderzoek
            or self.verblijft_niet_op_adres
            or any(self.kinderen_in_onderzoek)
            or any(d.in_onderzoek for d in self.reisdocumenten)
        )

    @property
    def heeft_geldig_id(self) -> bool:
        return any(not d.ingehouden_of_vermist and d.geldig_dagen >= 0 for d in self.reisdocumenten)

    @property
    def heeft_minderjarige_kinderen(self) -> bool:
        return any(age < 18 * 365 for age in self.kinderen_leeftijd_dagen)

    def kinderen_geboortedata(self, peildatum: date) -> tuple[date, ...]:
        return tuple(peildatum - timedelta(days=age) for age in self.kinderen_leeftijd_dagen)


#: the test series: every valid BSN from 999000000 to 999999999 (90,909 of them)
TEST_SERIES_START: Final = 999_000_000
#: the largest population: the children the BRP simulator invents take BSNs from
#: 999900000 up (:mod:`nazorg_dev.sim.haal_centraal.data`), so people stay below that
MAX_SIZE: Final = 80_000
_WEIGHTS: Final = (9, 8, 7, 6, 5, 4, 3, 2)


def synthetic_bsns(start: int = TEST_SERIES_START) -> Iterator[str]:
    """Valid BSNs from the 999 test series, in ascending order.

    Computed, not searched: each eight-digit prefix has exactly one check digit
    that satisfies the elfproef (weighted sum of the prefix minus the last digit
    divisible by 11), and none when that digit would have to be 10. Searching
    with :func:`is_valid_bsn` gave the same sequence eleven times slower.
    """
    prefix, first = divmod(start, 10)
    for number in range(prefix, 100_000_000):
        digits = f"{number:08d}"
        check = sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 11
        if check < 10 and (number > prefix or check >= first) and (number or check):
            yield f"{digits}{check}"


def _reisdocumenten(rng: random.Random) -> tuple[Reisdocument, ...]:
    roll = rng.random()

    def doc(valid: bool, ingehouden: bool = False) -> Reisdocument:
        days = rng.randint(30, 3000) if valid else -rng.randint(7, 2000)
        nummer = "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", k=9))
        return Reisdocument(
            nummer=nummer,
            soort_code=rng.choice(("PN", "NI")),
            geldig_dagen=days,
            ingehouden_of_vermist=ingehouden,
        )

    if roll < 0.85:  # about 15 % without a valid ID
        return (doc(True),) if rng.random() < 0.7 else (doc(True), doc(False))
    if roll < 0.93:
        return (doc(False),)
    if roll < 0.97:
        return (doc(True, ingehouden=True),)
    return ()


def _kinderen(rng: random.Random) -> tuple[int, ...]:
    count = rng.choices((0, 1, 2, 3), weights=(55, 25, 14, 6))[0]
    # ages straddle 18 years but never sit within a week of it, so a test run
    # around midnight cannot flip a child from minor to adult
    return tuple(rng.choice((rng.randint(200, 6500), rng.randint(6600, 11000))) for _ in range(count))


def _brp_signalen(
    bsn: str, seed: int, verblijf: Verblijf, kinderen: int, reisdocumenten: tuple[Reisdocument, ...]
) -> dict[str, Any]:
    """The BRP's signals, from the person's own random stream (a fixed number of draws)."""
    rng = random.Random(f"{seed}:brp-signalen:{bsn}")  # synthetic data, not security
    opgeschort = rng.random() < 0.015
    reden = rng.choices(_OPSCHORTING_CODES, weights=(4, 2, 1, 1, 1, 1))[0]
    bsn_in_onderzoek = rng.random() < 0.005
    verblijfplaats_in_onderzoek = rng.random() < 0.02
    niet_op_adres = rng.random() < 0.03
    return {
        "opschorting": reden if opgeschort else None,
        "bsn_in_onderzoek": bsn_in_onderzoek,
        "verblijfplaats_in_onderzoek": verblijfplaats_in_onderzoek,
        "verblijft_niet_op_adres": niet_op_adres and verblijf in ("woonadres", "briefadres"),
        "kinderen_in_onderzoek": tuple(rng.random() < 0.03 for _ in range(kinderen)),
        "reisdocumenten": tuple(replace(d, in_onderzoek=rng.random() < 0.02) for d in reisdocumenten),
    }


def _aanvraag_en_ggd(bsn: str, seed: int, uitkering: bool) -> dict[str, Any]:
    """The later additions, from the person's own random stream (a fixed number of draws)."""
    rng = random.Random(f"{seed}:aanvraag-ggd:{bsn}")  # synthetic data, not security
    roll = rng.random()
    # without an uitkering about one in five has an aanvraag in behandeling; with one, a few
    # applied for another (still no voorschot: an uitkering is lopend)
    in_behandeling = 0.20 if not uitkering else 0.05
    aanvraag: Aanvraag | None = None
    if roll < in_behandeling:
        aanvraag = "in_behandeling"
    elif roll < in_behandeling + 0.05:
        aanvraag = "afgewezen"
    return {"uitkering_aanvraag": aanvraag, "tbc_afgesloten": rng.random() < 0.04}


@lru_cache(maxsize=8)
def population(seed: int = DEFAULT_SEED, size: int = DEFAULT_SIZE) -> tuple[Persoon, ...]:
    """The first ``size`` people of the world ``seed`` (at most :data:`MAX_SIZE`).

    One random stream is drawn person after person, so a larger population
    starts with exactly the people of a smaller one: the 2,000 of the tests
    and the oracle are the first 2,000 of the 50,000 of the benchmarks.
    """
    if not 0 <= size <= MAX_SIZE:
        raise ValueError(f"size must be between 0 and {MAX_SIZE}")
    rng = random.Random(seed)
    people = []
    for bsn, _ in zip(synthetic_bsns(), range(size), strict=False):
        # the draws of the shared stream, in their historical order
        uitkering = rng.random() < 0.40
        gemeente_code = GEMEENTEN[0] if rng.random() < 0.6 else GEMEENTEN[1]
        verblijf = rng.choices(_VERBLIJVEN, weights=(55, 30, 10, 5))[0]
        kinderen = _kinderen(rng)
        reisdocumenten = _reisdocumenten(rng)
        people.append(
            Persoon(
                bsn=bsn,
                gemeente_code=gemeente_code,
                verblijf=verblijf,
                kinderen_leeftijd_dagen=kinderen,
                reclassering_betrokken=rng.choices((True, False, None), weights=(45, 45, 10))[0],
                doelgroep_topx=rng.random() < 0.05,
                maatschappelijke_opvang=rng.random() < 0.10,
                huurschuld=rng.random() < 0.15,
                uitkering=uitkering,
                reintegratie=uitkering and rng.random() < 0.5,
                schuld_cjib=rng.random() < 0.35,
                schuldhulp=rng.random() < 0.20,
                wmo=rng.random() < 0.15,
                ggz_risico=rng.random() < 0.10,
                tbc=rng.random() < 0.01,
                toestemming_financieel=rng.random() < 0.30,
                **_brp_signalen(bsn, seed, verblijf, len(kinderen), reisdocumenten),
                **_aanvraag_en_ggd(bsn, seed, uitkering),
            )
        )
    return tuple(people)


def by_bsn(seed: int = DEFAULT_SEED, size: int = DEFAULT_SIZE) -> dict[str, Persoon]:
    return {p.bsn: p for p in population(seed, size)}

"""The synthetic world at benchmark scale: enough people, the same people, every time.

The benchmarks need 50,000 people and more; the tests and ``tests/oracle.py``
rely on the first 2,000 staying exactly who they were. Both hold because the
population is drawn person after person from one stream.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from itertools import islice

import pytest

from nazorg.bsn import is_valid_bsn
from nazorg_dev.sim.meldingen import meldingen
from nazorg_dev.sim.population import MAX_SIZE, Persoon, population, synthetic_bsns

pytestmark = pytest.mark.unit

#: sha256 of ``repr(population(size=2000))`` computed with the code before the
#: population could grow (commit fdb31f2): the people every existing test knows
DEFAULT_2000_SHA256 = "35726f8345f1c1fff6b4f1796b9fd046fef0714e48b336ecfed3d0f5f753f5b7"


def _searched(start: int, count: int) -> list[str]:
    """The slow definition: every number from ``start`` up that passes the elfproef."""
    found = []
    number = start
    while len(found) < count and number < 1_000_000_000:
        if is_valid_bsn(f"{number:09d}"):
            found.append(f"{number:09d}")
        number += 1
    return found


@pytest.mark.parametrize("start", [999_000_000, 999_000_008, 999_000_019, 999_500_003, 999_999_900, 0, 7])
def test_computed_bsns_are_the_searched_ones(start: int) -> None:
    assert list(islice(synthetic_bsns(start), 300)) == _searched(start, 300)


def test_test_series_holds_enough_valid_bsns() -> None:
    series = list(synthetic_bsns())
    assert len(series) == 90_909
    assert series == sorted(set(series))
    assert series[0].startswith("999") and all(is_valid_bsn(b) for b in series[::97])
    assert len(series) > MAX_SIZE >= 60_000


#: fields added later from their own random stream (population.py's docstring); the digest
#: of everything else must stay DEFAULT_2000_SHA256, so adding them changed nobody's data
LATER_FIELDS = frozenset({"uitkering_aanvraag", "tbc_afgesloten"})
#: the same people including the later fields
DEFAULT_2000_MET_LATER_SHA256 = "31160b60517859816e70fbc1d8b6ae9ccbab4ef1df72b6c393ac983a9cc669ad"


def _zonder_later(p: Persoon) -> str:
    """The dataclass repr of ``p`` as it was before the later fields existed."""
    velden = (f"{f.name}={getattr(p, f.name)!r}" for f in fields(p) if f.name not in LATER_FIELDS)
    return f"Persoon({', '.join(velden)})"


def test_the_first_2000_people_are_unchanged() -> None:
    people = population(size=2000)
    oud = "(" + ", ".join(_zonder_later(p) for p in people) + ")"
    assert hashlib.sha256(oud.encode()).hexdigest() == DEFAULT_2000_SHA256
    assert hashlib.sha256(repr(people).encode()).hexdigest() == DEFAULT_2000_MET_LATER_SHA256


def test_a_larger_population_starts_with_the_smaller_one() -> None:
    groot = population(size=60_000)
    assert groot[:2000] == population(size=2000)
    assert groot[:5000] == population(size=5000)
    bsns = [p.bsn for p in groot]
    assert len(set(bsns)) == 60_000
    # the BRP simulator invents children's BSNs from 999900000 up: never one of these people
    assert max(bsns) < "999900000"


def test_population_is_deterministic_and_seeded() -> None:
    population.cache_clear()
    eerst = population(seed=7, size=3000)
    population.cache_clear()
    assert population(seed=7, size=3000) == eerst
    assert population(seed=8, size=3000) != eerst


def test_population_size_is_bounded() -> None:
    with pytest.raises(ValueError, match="size"):
        population(size=MAX_SIZE + 1)


def test_meldingen_grow_the_population_they_need() -> None:
    records = list(meldingen(3, offset=4_998))
    assert [r["bsn"] for r in records] == [p.bsn for p in population(size=5_001)[4_998:]]
    assert len({r["melding_id"] for r in records}) == 3
    # the first meldingen are those of the default population, as before
    assert list(meldingen(5)) == list(meldingen(5, size=2000))
    json.dumps(records)  # JSON Lines-ready

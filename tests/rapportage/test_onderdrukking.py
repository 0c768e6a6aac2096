"""Small-cell suppression: no suppressed count can be worked out from what the report publishes.

The checks here do not reuse the library's interval formula: they enumerate,
for every row, every completion of the hidden cells that agrees with what a
reader sees (published numbers, the row total if shown, and what each symbol
says: ``<10`` is 0..9, ``x`` is 10 or more), and look at what those completions
have in common.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nazorg.rapportage.onderdrukking import (
    DREMPEL,
    GEHEIM,
    KLEIN,
    MIN_WAARDEN,
    Rij,
    Status,
    Tabel,
    aandelen,
    onderdruk_tabel,
)

pytestmark = pytest.mark.unit

UITKOMSTEN = ("ja", "nee", "onbekend", "niet_uitgevoerd")


def _grenzen(tekst: str, bovengrens: int) -> range:
    """What a reader knows of a number from what is shown (``x``: at most ``bovengrens``)."""
    if tekst == KLEIN:
        return range(0, min(DREMPEL - 1, bovengrens) + 1)
    if tekst == GEHEIM:
        return range(DREMPEL, bovengrens + 1)
    return range(int(tekst), int(tekst) + 1)


def completions(rij: Rij, n: int) -> Iterator[dict[str, int]]:
    """Every row (cells and total) consistent with what the published row shows (brute force)."""
    sleutels = list(rij.cellen)
    # the rule hides the smallest published cell first: an x is at most every cell still shown
    getoond = [c.waarde for c in rij.cellen.values() if c.waarde is not None]
    hoogste_x = min([n, *getoond])
    teksten = [rij.cellen[k].tekst for k in sleutels]
    bereik = [_grenzen(t, hoogste_x if t == GEHEIM else n) for t in teksten]
    for waarden in itertools.product(*bereik):
        totaal = sum(waarden)
        if totaal <= n and totaal in _grenzen(rij.totaal.tekst, n):
            yield dict(zip(sleutels, waarden, strict=True))


def rij_strategie(n: int) -> st.SearchStrategy[dict[str, int]]:
    """Four counts adding up to n, skewed toward small cells (the interesting case)."""

    def verdeel(punten: list[int]) -> dict[str, int]:
        grenzen = [0, *sorted(punten), n]
        return {k: grenzen[i + 1] - grenzen[i] for i, k in enumerate(UITKOMSTEN)}

    return st.lists(st.integers(0, n), min_size=3, max_size=3).map(verdeel)


@st.composite
def tabellen(draw: st.DrawFn, max_n: int = 40) -> tuple[int, dict[str, dict[str, int]]]:
    n = draw(st.one_of(st.integers(0, 25), st.integers(0, max_n)))
    rijen = {f"check_{i}": draw(rij_strategie(n)) for i in range(draw(st.integers(1, 4)))}
    # sometimes a check with fewer outcomes than meldingen (the check is newer than some meldingen)
    if n and draw(st.booleans()):
        m = draw(st.integers(0, n))
        rijen["nieuw"] = draw(rij_strategie(m))
    return n, rijen


def _gepubliceerd(tabel: Tabel) -> list[int]:
    cellen = [c for r in tabel.rijen.values() for c in (*r.cellen.values(), r.totaal)]
    return [c.waarde for c in cellen if c.waarde is not None]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tabellen(), st.sampled_from([MIN_WAARDEN, 2, 4, 6]))
# found by hypothesis: a row shorter than N, hidden whole, was still bounded by N ("nieuw": ja 0 or 1)
@example(
    (
        11,
        {
            "check_0": {"ja": 0, "nee": 0, "onbekend": 2, "niet_uitgevoerd": 9},
            "nieuw": {"ja": 0, "nee": 0, "onbekend": 0, "niet_uitgevoerd": 10},
        },
    ),
    MIN_WAARDEN,
)
def test_no_suppressed_cell_is_determined_by_what_is_published(
    tabel_in: tuple[int, dict], min_waarden: int
) -> None:
    n, rijen = tabel_in
    tabel = onderdruk_tabel(n, rijen, min_waarden)
    # nothing below the threshold is ever shown as a number
    assert all(v >= DREMPEL for v in _gepubliceerd(tabel))
    if tabel.meldingen.waarde is None:
        assert tabel.rijen == {}  # a withheld table shows nothing but N's symbol
        assert tabel.meldingen.tekst == (KLEIN if n < DREMPEL else GEHEIM)
        return
    assert tabel.meldingen.waarde == n
    for check_id, rij in tabel.rijen.items():
        echt = rijen[check_id]
        mogelijk = list(completions(rij, n))
        assert echt in mogelijk  # the true row is consistent with what is shown (symbols do not lie)
        for k, cel in rij.cellen.items():
            if cel.waarde is None:
                waarden = {c[k] for c in mogelijk}
                assert len(waarden) >= min_waarden, (check_id, k, echt, waarden)
            else:
                assert cel.waarde == echt[k]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tabellen())
def test_a_published_rate_follows_from_published_counts_alone(tabel_in: tuple[int, dict]) -> None:
    """A rate that differs between two completions a reader cannot tell apart would leak a count."""
    n, rijen = tabel_in
    tabel = onderdruk_tabel(n, rijen)
    for check_id, rij in tabel.rijen.items():
        echt = rijen[check_id]
        mogelijk = list(completions(rij, n))
        for naam, waarde in aandelen(rij).items():
            if waarde is None:
                continue
            delen = ("ja", "nee", "onbekend")
            teller = delen if naam == "uitgevoerd" else (naam,)
            noemer = UITKOMSTEN if naam == "uitgevoerd" else delen
            paren = {(sum(c[k] for k in teller), sum(c[k] for k in noemer)) for c in mogelijk}
            assert len(paren) == 1, (check_id, naam)  # determined by the published numbers
            t, d = paren.pop()
            assert t >= DREMPEL and d >= DREMPEL
            assert t == sum(echt[k] for k in teller)
            assert waarde == pytest.approx(100 * t / d)


def test_a_single_small_cell_takes_a_second_one_with_it() -> None:
    """Without secondary suppression 100 - 40 - 50 would give the 7 away."""
    tabel = onderdruk_tabel(100, {"c": {"ja": 7, "nee": 40, "onbekend": 50, "niet_uitgevoerd": 3}})
    rij = tabel.rijen["c"]
    assert [c.tekst for c in rij.cellen.values()] == [KLEIN, "40", "50", KLEIN]
    # 7 + 3 = 10 hidden; each of them could be 1..9: fine. Now one small cell alone:
    tabel = onderdruk_tabel(100, {"c": {"ja": 7, "nee": 40, "onbekend": 41, "niet_uitgevoerd": 12}})
    rij = tabel.rijen["c"]
    assert rij.cellen["ja"].tekst == KLEIN
    assert rij.cellen["niet_uitgevoerd"].status is Status.SECUNDAIR  # the smallest published cell
    assert rij.cellen["niet_uitgevoerd"].tekst == GEHEIM
    assert rij.totaal.waarde == 100


def test_two_zeros_whose_sum_is_known_are_protected_by_a_third_cell() -> None:
    """0 + 0 = 100 - 60 - 40: both zeros would be known; a third cell must hide them."""
    tabel = onderdruk_tabel(100, {"c": {"ja": 0, "nee": 60, "onbekend": 0, "niet_uitgevoerd": 40}})
    rij = tabel.rijen["c"]
    assert rij.cellen["niet_uitgevoerd"].status is Status.SECUNDAIR
    assert rij.cellen["nee"].waarde == 60
    # and then every rate that needed the hidden cells is gone
    assert aandelen(rij) == {"ja": None, "nee": None, "onbekend": None, "uitgevoerd": None}


def test_rates_need_both_parts_published_and_at_least_ten() -> None:
    tabel = onderdruk_tabel(
        200,
        {
            "id_bewijs": {"ja": 120, "nee": 50, "onbekend": 20, "niet_uitgevoerd": 10},
            "tbc": {"ja": 3, "nee": 180, "onbekend": 5, "niet_uitgevoerd": 12},
        },
    )
    id_bewijs = aandelen(tabel.rijen["id_bewijs"])
    assert id_bewijs["nee"] == pytest.approx(100 * 50 / 190)  # the share without a valid ID
    assert id_bewijs["uitgevoerd"] == pytest.approx(95.0)
    tbc = aandelen(tabel.rijen["tbc"])
    assert tbc["ja"] is None and tbc["onbekend"] is None
    # uitgevoerd = 200 - 12 is determined, so nee / uitgevoerd may be shown (it is 180 / 188)
    assert tbc["nee"] == pytest.approx(100 * 180 / 188)


def test_a_table_with_fewer_than_ten_meldingen_shows_only_that() -> None:
    tabel = onderdruk_tabel(9, {"c": {"ja": 9, "nee": 0, "onbekend": 0, "niet_uitgevoerd": 0}})
    assert tabel.geheel_onderdrukt and tabel.meldingen.tekst == KLEIN and tabel.rijen == {}


def test_a_row_that_cannot_be_protected_withholds_the_whole_table() -> None:
    """Ten in one cell, zeros elsewhere: even with all four hidden, x = 10 and the zeros follow."""
    tabel = onderdruk_tabel(
        10,
        {
            "a": {"ja": 10, "nee": 0, "onbekend": 0, "niet_uitgevoerd": 0},
            "b": {"ja": 5, "nee": 5, "onbekend": 0, "niet_uitgevoerd": 0},
        },
    )
    assert tabel.geheel_onderdrukt and tabel.meldingen.tekst == GEHEIM and tabel.rijen == {}


def test_suppression_depends_only_on_the_table_itself() -> None:
    """The same counts give the same published table: reports over other windows agree."""
    rijen: Mapping[str, Mapping[str, int]] = {
        "c": {"ja": 4, "nee": 30, "onbekend": 11, "niet_uitgevoerd": 55},
    }
    assert onderdruk_tabel(100, rijen) == onderdruk_tabel(100, dict(rijen))


@pytest.mark.parametrize("bad", [-1])
def test_negative_counts_are_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="niet negatief"):
        onderdruk_tabel(10, {"c": {"ja": bad, "nee": 11, "onbekend": 0, "niet_uitgevoerd": 0}})


def test_min_waarden_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="minstens 2"):
        onderdruk_tabel(10, {}, min_waarden=1)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(DREMPEL, 500), min_size=4, max_size=4))
def test_full_rows_of_large_counts_are_published_unchanged(tellingen: list[int]) -> None:
    rij = dict(zip(UITKOMSTEN, tellingen, strict=True))
    tabel = onderdruk_tabel(sum(tellingen), {"c": rij})
    assert {k: c.waarde for k, c in tabel.rijen["c"].cellen.items()} == rij
    assert tabel.rijen["c"].totaal.waarde == sum(tellingen)

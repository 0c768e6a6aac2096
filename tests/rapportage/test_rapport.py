"""The report over a fixture world: right counts per gemeente and month, nothing personal, safe files.

The world is written through the Store with the pipeline's own statements
(``inbox_insert``, ``uitkomst_upsert``), with ``ontvangen_op`` chosen per
melding; the expected counts are computed here from the rows written, not
by the library's SQL.
"""

from __future__ import annotations

import base64
import io
import random
import re
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nazorg import migrations
from nazorg.models import MeldingStatus, Reden, Uitkomst
from nazorg.rapportage import rapport as rapport_module
from nazorg.rapportage.onderdrukking import DREMPEL, GEHEIM, KLEIN, Status, aandelen
from nazorg.rapportage.rapport import maak_rapport, stel_op
from nazorg.rapportage.tellingen import Maand, tel
from nazorg.register import Policy, default_policy
from nazorg.run_key import nieuwe_run_key
from nazorg.store import Store, dispose_engines, make_engine
from nazorg_dev.sim.population import synthetic_bsns

pytestmark = pytest.mark.unit

MAANDEN = [Maand(2026, 8), Maand(2026, 9), Maand(2026, 10)]
#: published meldingen per gemeente and month; 9902 has a month below the threshold
AANTALLEN = {
    ("9901", "2026-08"): 60,
    ("9901", "2026-09"): 25,
    ("9901", "2026-10"): 120,
    ("9902", "2026-08"): 40,
    ("9902", "2026-09"): 6,
    ("9902", "2026-10"): 70,
}


@dataclass
class Wereld:
    store: Store
    policy: Policy
    #: (gemeente, month label) -> check id -> Counter of outcomes, of published meldingen only
    verwacht: dict[tuple[str, str], dict[str, Counter[str]]]
    bsns: list[str]
    melding_ids: list[str]


def _tijdstip(maand: Maand, rng: random.Random) -> str:
    begin = maand.begin()
    lengte = (maand.volgende().begin() - begin).total_seconds()
    moment = begin + timedelta(seconds=rng.uniform(0, lengte - 1))
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _uitkomst(rng: random.Random, check_id: str) -> Uitkomst:
    # tbc is rare: small cells that need suppression
    gewichten = [0.03, 0.9, 0.04, 0.03] if check_id == "tbc_besmetting" else [0.45, 0.35, 0.08, 0.12]
    return rng.choices(list(Uitkomst), weights=gewichten)[0]


def _schrijf_melding(
    rijen: dict[str, list[dict[str, object]]],
    policy: Policy,
    melding_id: str,
    bsn: str,
    gemeente: str,
    ontvangen_op: str,
    status: str,
    rng: random.Random,
) -> dict[str, Uitkomst]:
    """Queue the melding's inbox row and outcome rows (written in one statement each, see the fixture)."""
    rijen["inbox_insert"].append(
        {
            "melding_id": melding_id,
            "run_key": nieuwe_run_key(),
            "bsn": bsn,
            "gemeente_code": gemeente,
            "inrichting": "PI Teststad",
            "datum_binnenkomst": ontvangen_op[:10],
            "verwachte_einddatum": None,
            "reclassering_betrokken": None,
            "inhoud_hash": f"hash-{melding_id}",
            "status": status,
            "nu": ontvangen_op,
        }
    )
    uitkomsten = {}
    for entry in policy.register.checks:
        u = _uitkomst(rng, entry.id)
        reden = None
        if u is Uitkomst.ONBEKEND:
            reden = Reden.BRON_ONBEREIKBAAR.value
        elif u is Uitkomst.NIET_UITGEVOERD:
            reden = Reden.GEEN_TOESTEMMING.value
        rijen["uitkomst_upsert"].append(
            {
                "melding_id": melding_id,
                "check_id": entry.id,
                "aandachtsgebied": entry.aandachtsgebied.value,
                "uitkomst": u.value,
                "dossierverantwoordelijke": None,
                "contact_herkomst": None,
                "reden": reden,
                "processing_activity_id": entry.processing_activity_id,
                "nu": ontvangen_op,
                "pogingen": 1,
                "volgende_poging": None,
            }
        )
        uitkomsten[entry.id] = u
    return uitkomsten


@pytest.fixture
def wereld(tmp_path: Path) -> Iterator[Wereld]:
    dispose_engines()
    engine = make_engine(f"sqlite:///{tmp_path / 'nazorg.db'}")
    migrations.upgrade(engine)
    yield _bouw_wereld(Store(engine))
    engine.dispose()
    dispose_engines()


def _bouw_wereld(store: Store) -> Wereld:
    policy = default_policy()
    rng = random.Random(9)
    bsns = synthetic_bsns()
    verwacht: dict[tuple[str, str], dict[str, Counter[str]]] = {}
    alle_bsns: list[str] = []
    ids: list[str] = []
    volgnummer = 0
    rijen: dict[str, list[dict[str, object]]] = {"inbox_insert": [], "uitkomst_upsert": []}

    def nieuwe(gemeente: str, ontvangen_op: str, status: str) -> dict[str, Uitkomst]:
        nonlocal volgnummer
        volgnummer += 1
        bsn = next(bsns)
        melding_id = f"EDM-R{volgnummer:05d}"
        alle_bsns.append(bsn)
        ids.append(melding_id)
        return _schrijf_melding(rijen, policy, melding_id, bsn, gemeente, ontvangen_op, status, rng)

    for (gemeente, label), aantal in AANTALLEN.items():
        maand = Maand.parse(label)
        tabel = verwacht.setdefault((gemeente, label), {e.id: Counter() for e in policy.register.checks})
        for _ in range(aantal):
            for check_id, u in nieuwe(gemeente, _tijdstip(maand, rng), MeldingStatus.GEPUBLICEERD).items():
                tabel[check_id][u.value] += 1
        # meldingen that are not published never count
        for status in (MeldingStatus.ONTVANGEN, MeldingStatus.GEBLOKKEERD, MeldingStatus.MISLUKT):
            nieuwe(gemeente, _tijdstip(maand, rng), status)
    # a published melding outside the window, and one just either side of a Dutch month boundary:
    # 2026-09-30T22:30Z is 1 October 00:30 in Amsterdam (CEST), 21:59Z still 30 September
    nieuwe("9901", "2026-07-15T12:00:00.000+00:00", MeldingStatus.GEPUBLICEERD)
    grens = (("2026-09-30T22:30:00.000+00:00", "2026-10"), ("2026-09-30T21:59:00.000+00:00", "2026-09"))
    for moment, label in grens:
        for check_id, u in nieuwe("9902", moment, MeldingStatus.GEPUBLICEERD).items():
            verwacht[("9902", label)][check_id][u.value] += 1
    for statement, params in rijen.items():  # the pipeline's own statements, many rows at once
        store.execute(statement, params)
    AANTALLEN_ECHT.clear()
    AANTALLEN_ECHT.update(AANTALLEN)
    AANTALLEN_ECHT[("9902", "2026-10")] += 1
    AANTALLEN_ECHT[("9902", "2026-09")] += 1
    return Wereld(store, policy, verwacht, alle_bsns, ids)


#: AANTALLEN plus the boundary meldingen (filled by the fixture)
AANTALLEN_ECHT: dict[tuple[str, str], int] = {}


def test_counts_per_gemeente_and_month_are_those_written(wereld: Wereld) -> None:
    _controleer_tellingen(wereld)


@pytest.mark.integration
def test_counts_are_the_same_on_postgresql(fresh_postgres_db: str) -> None:
    """The statements are portable: expanding IN and ISO text bounds on PostgreSQL too."""
    engine = make_engine(fresh_postgres_db)
    migrations.upgrade(engine)
    try:
        _controleer_tellingen(_bouw_wereld(Store(engine)))
    finally:
        engine.dispose()


def _controleer_tellingen(wereld: Wereld) -> None:
    check_ids = wereld.policy.register.ids
    for maand in MAANDEN:
        tellingen = tel(wereld.store, maand, ["9901", "9902"], check_ids)
        for gemeente in ("9901", "9902"):
            telling = tellingen[gemeente]
            assert telling.meldingen == AANTALLEN_ECHT[(gemeente, maand.label)], (gemeente, maand)
            for check_id in check_ids:
                echt = wereld.verwacht[(gemeente, maand.label)][check_id]
                want = {u.value: echt[u.value] for u in Uitkomst}
                assert telling.rijen[check_id] == want, (gemeente, maand, check_id)
    # July has one published melding, but only for 9901; a gemeente with nothing has zeros
    juli = tel(wereld.store, Maand(2026, 7), ["9901", "9902"], check_ids)
    assert juli["9901"].meldingen == 1 and juli["9902"].meldingen == 0
    assert sum(juli["9902"].rijen["id_bewijs"].values()) == 0


def test_the_published_report_shows_the_counts_or_a_symbol(wereld: Wereld) -> None:
    rapport = stel_op(wereld.store, wereld.policy, Maand(2026, 10), 3)
    assert [g.gemeente_code for g in rapport.gemeenten] == ["9901", "9902"]
    gezien = Counter()
    for g in rapport.gemeenten:
        assert [m.label for m in g.maanden] == ["2026-08", "2026-09", "2026-10"]
        for label, tabel in g.tabellen.items():
            n = AANTALLEN_ECHT[(g.gemeente_code, label)]
            if n < DREMPEL:
                assert tabel.geheel_onderdrukt and tabel.meldingen.tekst == KLEIN
                gezien["achtergehouden"] += 1
                continue
            if tabel.geheel_onderdrukt:
                continue
            assert tabel.meldingen.waarde == n
            for check_id, rij in tabel.rijen.items():
                echt = wereld.verwacht[(g.gemeente_code, label)][check_id]
                for u, cel in rij.cellen.items():
                    if cel.status is Status.GEPUBLICEERD:
                        assert cel.waarde == echt[u]
                        gezien["gepubliceerd"] += 1
                    elif cel.status is Status.PRIMAIR:
                        assert echt[u] < DREMPEL and cel.waarde is None
                        gezien["primair"] += 1
                    else:
                        assert echt[u] >= DREMPEL and cel.waarde is None
                        gezien["secundair"] += 1
                rates = aandelen(rij)
                uitgevoerd = echt["ja"] + echt["nee"] + echt["onbekend"]
                if rates["nee"] is not None:
                    assert rates["nee"] == pytest.approx(100 * echt["nee"] / uitgevoerd)
    # the world is rich enough to exercise every kind of cell
    assert min(gezien[k] for k in ("gepubliceerd", "primair", "secundair", "achtergehouden")) > 0, gezien


def test_a_report_for_one_gemeente_has_the_same_tables(wereld: Wereld) -> None:
    alle = stel_op(wereld.store, wereld.policy, Maand(2026, 10), 3)
    een = stel_op(wereld.store, wereld.policy, Maand(2026, 10), 2, ["9902"])
    assert [g.gemeente_code for g in een.gemeenten] == ["9902"]
    for label in ("2026-09", "2026-10"):
        assert een.gemeenten[0].tabellen[label] == alle.gemeenten[1].tabellen[label]


def _pngs(html: str) -> list[bytes]:
    return [base64.b64decode(b) for b in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def test_the_html_report_is_self_contained_and_holds_nothing_personal(wereld: Wereld, tmp_path: Path) -> None:
    from matplotlib.image import imread

    uit = tmp_path / "nieuw" / "rapporten"
    resultaat = maak_rapport(wereld.store, wereld.policy, Maand(2026, 10), 3, uit)
    html = resultaat.pad.read_text(encoding="utf-8")
    assert resultaat.pad.name == "nazorg-rapportage-2026-10.html"
    # files 0600, every directory created 0700
    assert stat.S_IMODE(resultaat.pad.stat().st_mode) == 0o600
    for directory in (uit, uit.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert [p.name for p in uit.iterdir()] == [resultaat.pad.name]  # no temporary file left
    # self-contained: no URL, no external reference of any kind
    zonder_plaatjes = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert not re.search(r"https?:|//[a-z0-9]|url\(|@import", zonder_plaatjes, re.IGNORECASE)
    assert not re.search(r'(src|href)="(?!data:image/png;base64,)', html)
    assert "<script" not in html.lower()
    # nothing personal: no BSN, no melding id, no digit run of BSN length
    for bsn in wereld.bsns:
        assert bsn not in html
    for melding_id in wereld.melding_ids:
        assert melding_id not in html
    assert not re.search(r"\d{8,}", zonder_plaatjes)
    # the charts: valid PNGs, one per gemeente for N and one per check
    pngs = _pngs(html)
    assert len(pngs) == resultaat.grafieken == 2 * (1 + len(wereld.policy.register.ids))
    for png in pngs:
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
        beeld = imread(io.BytesIO(png), format="png")
        assert beeld.shape[0] > 100 and beeld.shape[1] > 300
    # the counts: N of the month per gemeente, and the symbols
    assert "Gepubliceerde meldingen in 2026-10: <strong>120</strong>" in html
    assert "Gepubliceerde meldingen in 2026-10: <strong>71</strong>" in html
    assert "&lt;10" in html and f">{GEHEIM}<" in html
    assert resultaat.voor_xcom() == {
        "gemeenten": 2,
        "maanden": 3,
        "tabellen": 6,
        "tabellen_achtergehouden": 1,
        "grafieken": resultaat.grafieken,
    }


def test_charts_get_published_values_only(wereld: Wereld) -> None:
    rapport = stel_op(wereld.store, wereld.policy, Maand(2026, 10), 3)
    g = rapport.gemeenten[1]  # 9902: September is withheld
    assert rapport_module.meldingen_reeks(g) == [40, None, 71]
    for check_id in wereld.policy.register.ids:
        reeksen = rapport_module.aandelen_reeksen(g, check_id)
        for k, reeks in reeksen.items():
            for maand, waarde in zip(g.maanden, reeks, strict=True):
                rij = g.tabellen[maand.label].rijen.get(check_id)
                if rij is None or rij.cellen[k].waarde is None:
                    assert waarde is None, (check_id, k, maand)
    # tbc_besmetting's rare ja is never drawn
    assert all(v is None for v in rapport_module.aandelen_reeksen(g, "tbc_besmetting")["ja"])


def test_the_month_of_a_moment_is_the_last_closed_dutch_month() -> None:
    assert Maand.laatst_afgesloten(datetime(2026, 11, 1, 5, tzinfo=UTC)) == Maand(2026, 10)
    # 31 October 23:30 UTC is already 1 November in Amsterdam (CET)
    assert Maand.laatst_afgesloten(datetime(2026, 10, 31, 23, 30, tzinfo=UTC)) == Maand(2026, 10)
    assert Maand.laatst_afgesloten(datetime(2026, 10, 31, 22, 30, tzinfo=UTC)) == Maand(2026, 9)
    assert Maand.laatst_afgesloten(datetime(2026, 1, 10, tzinfo=UTC)) == Maand(2025, 12)
    assert Maand(2026, 2).venster(3) == [Maand(2025, 12), Maand(2026, 1), Maand(2026, 2)]
    with pytest.raises(ValueError, match="JJJJ-MM"):
        Maand.parse("2026-13")

"""Each check's mapping: source answers to ja/nee/onbekend, and errors never to nee."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest
from sqlalchemy import create_engine, text

from nazorg.checks import Geval, evalueer
from nazorg.models import Reden, Uitkomst
from nazorg.register import default_policy
from nazorg.sources.haal_centraal import BronFout
from nazorg.sources.sql_lookup import LookupAntwoord, LookupBronFout, LookupVormFout, run_lookup

pytestmark = pytest.mark.unit
DAG = date(2026, 11, 29)
A = Geval("EDM-A", "999000007", "ja")
B = Geval("EDM-B", "999000019", None)


class FakeBronnen:
    def __init__(
        self, *, lookup=None, woon=None, kind=None, reis=None, fout: Exception | None = None
    ) -> None:
        self._lookup = lookup or {}
        self._woon = woon or {}
        self._kind = kind or {}
        self._reis = reis or {}
        self._fout = fout

    def _maybe_fail(self) -> None:
        if self._fout is not None:
            raise self._fout

    def lookup(self, verbinding: str, query: str, bsns: Sequence[str]) -> dict[str, LookupAntwoord]:
        self._maybe_fail()
        return {b: self._lookup[b] for b in bsns if b in self._lookup}

    def woonadres(self, verbinding: str, bsns: Sequence[str]) -> dict[str, bool]:
        self._maybe_fail()
        return {b: self._woon[b] for b in bsns if b in self._woon}

    def minderjarige_kinderen(
        self, verbinding: str, bsns: Sequence[str], peildatum: date
    ) -> dict[str, bool | None]:
        self._maybe_fail()
        return {b: self._kind[b] for b in bsns if b in self._kind}

    def geldig_id(self, verbinding: str, bsns: Sequence[str], peildatum: date) -> dict[str, object]:
        self._maybe_fail()
        return {b: self._reis[b] for b in bsns if b in self._reis}


def run(check_id: str, bronnen: FakeBronnen, gevallen=(A, B), gemeente: str = "9901"):
    policy = default_policy()
    entry = policy.register.entry(check_id)
    chosen = policy.besluit(gemeente).checks[check_id]
    return evalueer(entry, chosen, list(gevallen), bronnen, DAG), chosen.dossierverantwoordelijke


def test_sql_check_known_unknown_and_ambiguous() -> None:
    results, default = run(
        "schuld_cjib",
        FakeBronnen(
            lookup={
                "999000007": LookupAntwoord(True, "Team Schulden Zuid"),
                "999000019": LookupAntwoord(True, None, ambigu=True),
            }
        ),
        gevallen=(A, B, Geval("EDM-C", "999000020", None)),
    )
    assert results["EDM-A"].uitkomst == Uitkomst.JA
    assert results["EDM-A"].dossierverantwoordelijke == "Team Schulden Zuid"
    assert results["EDM-B"].uitkomst == Uitkomst.ONBEKEND and results["EDM-B"].reden == Reden.BRON_AMBIGU
    assert results["EDM-C"].uitkomst == Uitkomst.NEE
    assert results["EDM-C"].dossierverantwoordelijke == default


@pytest.mark.parametrize("check_id", ["schuld_cjib", "onderdak", "kinderen", "id_bewijs"])
@pytest.mark.parametrize("fout", [LookupBronFout(Reden.BRON_ONBEREIKBAAR), BronFout(Reden.BRON_TIMEOUT)])
def test_source_failure_is_onbekend_never_nee(check_id: str, fout: Exception) -> None:
    results, _ = run(check_id, FakeBronnen(fout=fout))
    for result in results.values():
        assert result.uitkomst == Uitkomst.ONBEKEND
        assert result.reden == fout.reden


def test_reclassering_from_melding() -> None:
    results, _ = run("reclassering", FakeBronnen())
    assert results["EDM-A"].uitkomst == Uitkomst.JA
    assert results["EDM-B"].uitkomst == Uitkomst.ONBEKEND and results["EDM-B"].reden == Reden.NIET_IN_MELDING


def test_id_bewijs_mapping() -> None:
    c = Geval("EDM-C", "999000020", None)
    d = Geval("EDM-D", "999000032", None)
    results, _ = run(
        "id_bewijs",
        FakeBronnen(
            reis={
                "999000007": True,
                "999000019": False,
                "999000020": None,
                "999000032": BronFout(Reden.BRON_FOUT),
            }
        ),
        gevallen=(A, B, c, d),
    )
    assert [results[m].uitkomst for m in ("EDM-A", "EDM-B", "EDM-C", "EDM-D")] == [
        Uitkomst.JA,
        Uitkomst.NEE,
        Uitkomst.ONBEKEND,
        Uitkomst.ONBEKEND,
    ]
    assert results["EDM-D"].reden == Reden.BRON_FOUT


def test_onderdak_uses_opvang_contact_and_unknown_person() -> None:
    results, _default = run(
        "onderdak",
        FakeBronnen(
            woon={"999000007": False},
            lookup={"999000007": LookupAntwoord(True, "Team Maatschappelijke Opvang Ruimhaven")},
        ),
    )
    assert results["EDM-A"].uitkomst == Uitkomst.NEE
    assert results["EDM-A"].dossierverantwoordelijke == "Team Maatschappelijke Opvang Ruimhaven"
    assert results["EDM-B"].uitkomst == Uitkomst.ONBEKEND
    assert results["EDM-B"].reden == Reden.PERSOON_NIET_GEVONDEN


def test_kinderen_mapping() -> None:
    results, _ = run("kinderen", FakeBronnen(kind={"999000007": True, "999000019": None}))
    assert results["EDM-A"].uitkomst == Uitkomst.JA
    assert results["EDM-B"].reden == Reden.BRON_AMBIGU


@pytest.fixture
def bron_engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'b.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE cjib (bsn TEXT, bedrag NUMERIC, team TEXT, flag TEXT)"))
        conn.execute(
            text(
                "INSERT INTO cjib VALUES ('999000007', 4321.5, 'Team CJIB', 'x'),"
                "('999000019', 10, 'Team A', 'y'), ('999000019', 20, 'Team B', 'y')"
            )
        )
    yield engine
    engine.dispose()


def test_lookup_returns_answers_and_detects_ambiguity(bron_engine) -> None:
    q = "SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke FROM cjib WHERE bsn IN :bsns"
    answers = run_lookup(bron_engine, q, ["999000007", "999000019", "999000020"])
    assert answers["999000007"] == LookupAntwoord(True, "Team CJIB")
    assert answers["999000019"].ambigu
    assert "999000020" not in answers


def test_lookup_with_extra_column_is_refused_without_values(bron_engine) -> None:
    q = "SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke, bedrag FROM cjib WHERE bsn IN :bsns"
    with pytest.raises(LookupVormFout) as info:
        run_lookup(bron_engine, q, ["999000007"])
    assert info.value.reden_code == "lookup_kolommen_onjuist"
    assert "bedrag" in info.value.kolommen
    assert "4321" not in str(info.value) and "999000007" not in str(info.value)


def test_lookup_with_non_boolean_bekend_is_refused(bron_engine) -> None:
    q = "SELECT bsn, flag AS bekend, team AS dossierverantwoordelijke FROM cjib WHERE bsn IN :bsns"
    with pytest.raises(LookupVormFout, match="lookup_waarde_ongeldig"):
        run_lookup(bron_engine, q, ["999000007"])


def test_lookup_against_missing_table_is_a_source_error(bron_engine) -> None:
    with pytest.raises(LookupBronFout) as info:
        run_lookup(
            bron_engine,
            "SELECT bsn, 1 AS bekend, 'x' AS dossierverantwoordelijke FROM nope WHERE bsn IN :bsns",
            ["999000007"],
        )
    assert "999000007" not in str(info.value)

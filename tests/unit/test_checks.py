"""Each check's mapping: source answers to ja/nee/onbekend, and errors never to nee.

Checks are evaluated by source kind: the tests hand :func:`evalueer` a
:class:`Sources` whose adapters are fakes (canned answers), the real adapters
over a mock HTTP transport or a SQLite database, or a kind registered by the
test itself.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from nazorg.checks import Geval, evalueer
from nazorg.connections import http_connection_json
from nazorg.models import CheckResult, Reden, Uitkomst
from nazorg.register import (
    BesluitCheck,
    RegisterEntry,
    RegisterError,
    default_policy,
    load_policy,
    vastleggen,
)
from nazorg.settings import Settings, settings
from nazorg.sources.answer import Antwoord
from nazorg.sources.builtin import BrpPersonenAdapter, MeldingAdapter, SqlLookupAdapter
from nazorg.sources.errors import SourceError, SourceShapeError, SourceTimeout, SourceUnavailable
from nazorg.sources.haal_centraal import KINDEREN_FIELDS, WOONADRES_FIELDS
from nazorg.sources.kinds import BsnAdapter, SourceAdapter, Vraag, register_adapter, unregister_adapter
from nazorg.sources.live import LiveSources
from nazorg.sources.sql_lookup import run_lookup

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
DAG = date(2026, 11, 29)
A = Geval("EDM-A", "999000007", "ja")
B = Geval("EDM-B", "999000019", None)
C = Geval("EDM-C", "999000020", None)
D = Geval("EDM-D", "999000032", None)


class FakeAdapter(BsnAdapter):
    """Canned answers per BSN (``standaard`` for the rest), or an error for every question."""

    kind = "fake"

    def __init__(
        self,
        antwoorden: Mapping[str, Antwoord] | None = None,
        *,
        standaard: Antwoord | None = None,
        fout: Exception | None = None,
    ) -> None:
        super().__init__(settings())
        self._antwoorden = dict(antwoorden or {})
        self._standaard = standaard
        self._fout = fout
        self.gevraagd: list[tuple[str | None, list[str]]] = []

    def answer_bsns(self, vraag: Vraag, bsns: Sequence[str]) -> dict[str, Antwoord]:
        self.gevraagd.append((vraag.entry.bronvraag, list(bsns)))
        if self._fout is not None:
            raise self._fout
        antwoorden = {b: self._antwoorden.get(b, self._standaard) for b in bsns}
        return {b: a for b, a in antwoorden.items() if a is not None}


class FakeSources:
    """One adapter per kind; the melding kind is the real one (it asks nothing)."""

    def __init__(self, **adapters: SourceAdapter) -> None:
        self._adapters: dict[str, SourceAdapter] = {"melding": MeldingAdapter(settings()), **adapters}

    def adapter(self, kind: str) -> SourceAdapter:
        return self._adapters[kind]


def sql(antwoorden: Mapping[str, Antwoord] | None = None, **kwargs: Any) -> FakeAdapter:
    """A gemeentelijk system: a BSN without rows is nee, as the real adapter decides."""
    return FakeAdapter(antwoorden, standaard=Antwoord.nee(), **kwargs)


def run(
    check_id: str, sources: Any, gevallen: Sequence[Geval] = (A, B), gemeente: str = "9901"
) -> tuple[dict[str, CheckResult], str]:
    policy = default_policy()
    entry = policy.register.entry(check_id)
    besluit = policy.besluit(gemeente)
    return evalueer(entry, besluit, list(gevallen), sources, DAG), besluit.standaard_contact(check_id)


def uitkomsten(results: Mapping[str, CheckResult], *gevallen: Geval) -> list[tuple[Uitkomst, Reden | None]]:
    return [(results[g.melding_id].uitkomst, results[g.melding_id].reden) for g in gevallen]


# --------------------------------------------------------------------------- mapping per kind


def test_sql_check_known_unknown_and_ambiguous() -> None:
    results, default = run(
        "schuld_cjib",
        FakeSources(
            gemeentelijk_sql=sql(
                {
                    "999000007": Antwoord.ja("Schuldhulpmaatje Ruimhaven"),  # a team of the besluit
                    "999000019": Antwoord.onbekend(Reden.BRON_AMBIGU),
                }
            )
        ),
        gevallen=(A, B, C),
    )
    assert results["EDM-A"].uitkomst == Uitkomst.JA
    assert results["EDM-A"].dossierverantwoordelijke == "Schuldhulpmaatje Ruimhaven"
    assert results["EDM-A"].reden is None and not results["EDM-A"].contact_geweigerd
    assert results["EDM-B"].uitkomst == Uitkomst.ONBEKEND and results["EDM-B"].reden == Reden.BRON_AMBIGU
    assert results["EDM-B"].dossierverantwoordelijke == default
    assert results["EDM-C"].uitkomst == Uitkomst.NEE
    assert results["EDM-C"].dossierverantwoordelijke == default


FOUTEN = [SourceUnavailable(), SourceTimeout(), SourceError(bron="brp personen", status=503)]


@pytest.mark.parametrize("check_id", ["schuld_cjib", "onderdak", "kinderen", "id_bewijs"])
@pytest.mark.parametrize("fout", FOUTEN, ids=["onbereikbaar", "timeout", "fout"])
def test_source_failure_is_onbekend_never_nee(check_id: str, fout: SourceError) -> None:
    failing = {
        kind: FakeAdapter(fout=fout)
        for kind in ("gemeentelijk_sql", "haal_centraal_brp_personen", "haal_centraal_reisdocumenten")
    }
    results, default = run(check_id, FakeSources(**failing))
    for result in results.values():
        assert result.uitkomst == Uitkomst.ONBEKEND
        assert result.reden == fout.reden
        assert result.dossierverantwoordelijke == default


@pytest.mark.parametrize("falend", ["haal_centraal_brp_personen", "gemeentelijk_sql"])
def test_onderdak_is_onbekend_when_either_of_its_sources_fails(falend: str) -> None:
    adapters: dict[str, SourceAdapter] = {
        "haal_centraal_brp_personen": FakeAdapter(standaard=Antwoord.nee()),
        "gemeentelijk_sql": sql(),
    }
    adapters[falend] = FakeAdapter(fout=SourceUnavailable())
    results, _ = run("onderdak", FakeSources(**adapters))
    assert uitkomsten(results, A, B) == [(Uitkomst.ONBEKEND, Reden.BRON_ONBEREIKBAAR)] * 2


def test_reclassering_from_melding() -> None:
    nee = Geval("EDM-N", "999000020", "nee")
    rommel = Geval("EDM-R", "999000032", "misschien")
    results, _ = run("reclassering", FakeSources(), gevallen=(A, B, nee, rommel))
    assert uitkomsten(results, A, B, nee, rommel) == [
        (Uitkomst.JA, None),
        (Uitkomst.ONBEKEND, Reden.NIET_IN_MELDING),
        (Uitkomst.NEE, None),
        (Uitkomst.ONBEKEND, Reden.NIET_IN_MELDING),
    ]


def test_id_bewijs_mapping() -> None:
    reis = FakeAdapter(
        {
            "999000007": Antwoord.ja(),
            "999000019": Antwoord.nee(),
            "999000020": Antwoord.onbekend(Reden.BRON_AMBIGU),
            "999000032": Antwoord.onbekend(Reden.BRON_FOUT),  # one BSN's request failed
        }
    )
    results, _ = run("id_bewijs", FakeSources(haal_centraal_reisdocumenten=reis), gevallen=(A, B, C, D))
    assert uitkomsten(results, A, B, C, D) == [
        (Uitkomst.JA, None),
        (Uitkomst.NEE, None),
        (Uitkomst.ONBEKEND, Reden.BRON_AMBIGU),
        (Uitkomst.ONBEKEND, Reden.BRON_FOUT),
    ]
    assert reis.gevraagd == [("geldig_reisdocument", ["999000007", "999000019", "999000020", "999000032"])]


def test_onderdak_uses_opvang_contact_and_unknown_person() -> None:
    brp = FakeAdapter(
        {
            "999000007": Antwoord.nee(),
            "999000019": Antwoord.onbekend(Reden.PERSOON_NIET_GEVONDEN),
            "999000020": Antwoord.ja(),
            "999000032": Antwoord.onbekend(Reden.BRON_AMBIGU),
        }
    )
    opvang = sql(
        {
            "999000007": Antwoord.ja("Team Maatschappelijke Opvang Ruimhaven"),
            "999000020": Antwoord.onbekend(Reden.BRON_AMBIGU),  # two opvang teams: who is responsible?
            "999000032": Antwoord.ja("Team Maatschappelijke Opvang Ruimhaven"),
        }
    )
    results, default = run(
        "onderdak",
        FakeSources(haal_centraal_brp_personen=brp, gemeentelijk_sql=opvang),
        gevallen=(A, B, C, D),
    )
    assert uitkomsten(results, A, B, C, D) == [
        (Uitkomst.NEE, None),
        (Uitkomst.ONBEKEND, Reden.PERSOON_NIET_GEVONDEN),
        (Uitkomst.ONBEKEND, Reden.BRON_AMBIGU),
        (Uitkomst.ONBEKEND, Reden.BRON_AMBIGU),
    ]
    contacten = [results[g.melding_id].dossierverantwoordelijke for g in (A, B, C, D)]
    opvangteam = "Team Maatschappelijke Opvang Ruimhaven"
    assert contacten == [opvangteam, default, default, opvangteam]
    assert brp.gevraagd[0][0] == "woonadres"


def test_aanvullende_bron_that_does_not_know_the_person_leaves_the_besluit_contact() -> None:
    brp = FakeAdapter(standaard=Antwoord.ja())
    opvang = sql({"999000007": Antwoord.nee("Team dat niets weet")})
    results, default = run("onderdak", FakeSources(haal_centraal_brp_personen=brp, gemeentelijk_sql=opvang))
    assert results["EDM-A"].uitkomst == Uitkomst.JA
    assert results["EDM-A"].dossierverantwoordelijke == default


def test_kinderen_mapping() -> None:
    brp = FakeAdapter({"999000007": Antwoord.ja(), "999000019": Antwoord.onbekend(Reden.BRON_AMBIGU)})
    results, _ = run("kinderen", FakeSources(haal_centraal_brp_personen=brp))
    assert uitkomsten(results, A, B) == [(Uitkomst.JA, None), (Uitkomst.ONBEKEND, Reden.BRON_AMBIGU)]
    assert brp.gevraagd[0][0] == "minderjarige_kinderen"


def test_a_shape_error_is_not_caught_it_blocks() -> None:
    fout = SourceShapeError(
        "lookup_kolommen_onjuist", ["bsn", "bekend", "dossierverantwoordelijke", "bedrag"]
    )
    with pytest.raises(SourceShapeError):
        run("schuld_cjib", FakeSources(gemeentelijk_sql=FakeAdapter(fout=fout)))
    with pytest.raises(SourceShapeError):  # also from an aanvullende bron
        run(
            "onderdak",
            FakeSources(
                haal_centraal_brp_personen=FakeAdapter(standaard=Antwoord.ja()),
                gemeentelijk_sql=FakeAdapter(fout=fout),
            ),
        )


def test_an_adapter_that_leaves_a_bsn_out_is_a_bug_not_an_answer() -> None:
    onvolledig = FakeAdapter({"999000007": Antwoord.ja()})  # nothing for 999000019
    with pytest.raises(RuntimeError, match="geen antwoord voor 1") as info:
        run("kinderen", FakeSources(haal_centraal_brp_personen=onvolledig))
    assert "999000019" not in str(info.value)


def test_one_bsn_in_two_meldingen_is_asked_once() -> None:
    tweede = Geval("EDM-A2", A.bsn, None)
    brp = FakeAdapter({A.bsn: Antwoord.ja()})
    results, _ = run("kinderen", FakeSources(haal_centraal_brp_personen=brp), gevallen=(A, tweede))
    assert brp.gevraagd == [("minderjarige_kinderen", [A.bsn])]
    assert {r.uitkomst for r in results.values()} == {Uitkomst.JA}


# --------------------------------------------------------------------------- real adapters


PERSONEN_URL = "http://brp.test/haalcentraal/api/brp"


@pytest.fixture
def brp_http(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[Callable[[dict[str, Any]], list[Any]]], Any]]:
    """A BRP Personen adapter over a mock transport; the test says which personen come back."""
    monkeypatch.setenv("AIRFLOW_CONN_HAAL_CENTRAAL_BRP", http_connection_json(PERSONEN_URL))
    clients: list[httpx.Client] = []
    bodies: list[dict[str, Any]] = []

    def make(
        personen: Callable[[dict[str, Any]], list[Any]],
    ) -> tuple[BrpPersonenAdapter, list[dict[str, Any]]]:
        def handler(request: httpx.Request) -> httpx.Response:
            assert str(request.url) == PERSONEN_URL + "/personen"
            body = json.loads(request.content)
            bodies.append(body)
            return httpx.Response(200, json={"type": body["type"], "personen": personen(body)})

        http = httpx.Client(transport=httpx.MockTransport(handler))
        clients.append(http)
        return BrpPersonenAdapter(settings(), http=http), bodies

    yield make
    for http in clients:
        http.close()


def test_brp_adapter_asks_the_entrys_bronvraag_with_its_minimal_fields(brp_http: Any) -> None:
    def personen(body: dict[str, Any]) -> list[Any]:
        if body["fields"] == list(WOONADRES_FIELDS):
            return [
                {
                    "burgerservicenummer": A.bsn,
                    "verblijfplaats": {"type": "Adres", "functieAdres": {"code": "W"}},
                }
            ]
        return [
            {
                "burgerservicenummer": A.bsn,
                "kinderen": [{"geboorte": {"datum": {"type": "Datum", "datum": "2020-01-01"}}}],
            }
        ]

    adapter, bodies = brp_http(personen)
    sources = FakeSources(haal_centraal_brp_personen=adapter, gemeentelijk_sql=sql())
    onderdak, _ = run("onderdak", sources)
    kinderen, _ = run("kinderen", sources)
    assert [b["fields"] for b in bodies] == [list(WOONADRES_FIELDS), list(KINDEREN_FIELDS)]
    assert uitkomsten(onderdak, A, B) == [
        (Uitkomst.JA, None),
        (Uitkomst.ONBEKEND, Reden.PERSOON_NIET_GEVONDEN),
    ]
    assert uitkomsten(kinderen, A, B) == [
        (Uitkomst.JA, None),
        (Uitkomst.ONBEKEND, Reden.PERSOON_NIET_GEVONDEN),
    ]
    adapter.close()


def test_locatie_and_conflicting_records_are_ambiguous_not_not_found(brp_http: Any) -> None:
    """The bug: woonadres() dropped open answers, so these became persoon_niet_gevonden."""

    def personen(body: dict[str, Any]) -> list[Any]:
        return [
            # a Locatie (woonwagen, woonboot) whose functieAdres the BRP leaves out: open
            {"burgerservicenummer": A.bsn, "verblijfplaats": {"type": "Locatie"}},
            # two records for one BSN that disagree
            {
                "burgerservicenummer": B.bsn,
                "verblijfplaats": {"type": "Adres", "functieAdres": {"code": "W"}},
            },
            {
                "burgerservicenummer": B.bsn,
                "verblijfplaats": {"type": "Adres", "functieAdres": {"code": "B"}},
            },
            # a Locatie with functieAdres W is a woonadres (the spec gives Locatie a functieAdres)
            {
                "burgerservicenummer": C.bsn,
                "verblijfplaats": {"type": "Locatie", "functieAdres": {"code": "W"}},
            },
        ]

    adapter, _ = brp_http(personen)
    results, _ = run(
        "onderdak",
        FakeSources(haal_centraal_brp_personen=adapter, gemeentelijk_sql=sql()),
        gevallen=(A, B, C, D),
    )
    assert uitkomsten(results, A, B, C, D) == [
        (Uitkomst.ONBEKEND, Reden.BRON_AMBIGU),
        (Uitkomst.ONBEKEND, Reden.BRON_AMBIGU),
        (Uitkomst.JA, None),
        (Uitkomst.ONBEKEND, Reden.PERSOON_NIET_GEVONDEN),
    ]


@pytest.fixture
def bron_engine(tmp_path: Path) -> Iterator[Any]:
    engine = create_engine(f"sqlite:///{tmp_path / 'b.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE cjib (bsn TEXT, bedrag NUMERIC, team TEXT, flag TEXT)"))
        conn.execute(
            text(
                "INSERT INTO cjib VALUES ('999000007', 4321.5, 'schuldhulpmaatje', 'x'),"
                "('999000019', 10, 'Team A', 'y'), ('999000019', 20, 'Team B', 'y')"
            )
        )
    yield engine
    engine.dispose()


def test_sql_adapter_reads_the_besluits_query_and_answers_every_bsn(
    tmp_path: Path, bron_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nazorg.store import dispose_engines

    (tmp_path / "sql" / "lookups").mkdir(parents=True)
    (tmp_path / "sql" / "lookups" / "cjib_test.sql").write_text(
        "SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke FROM cjib WHERE bsn IN :bsns"
    )
    monkeypatch.setenv("AIRFLOW_CONN_TEST_CJIB", str(bron_engine.url))
    config = Settings.for_project(tmp_path)
    policy = default_policy()
    entry = policy.register.entry("schuld_cjib")
    chosen = BesluitCheck.model_validate(
        {
            "lookup": {"verbinding": "test_cjib", "query": "lookups/cjib_test.sql"},
            "dossierverantwoordelijke": "wonen",
        }
    )
    ruimhaven = policy.besluit("9901")
    besluit = ruimhaven.model_copy(update={"checks": {**ruimhaven.checks, "schuld_cjib": chosen}})
    try:
        results = evalueer(
            entry, besluit, [A, B, C], FakeSources(gemeentelijk_sql=SqlLookupAdapter(config)), DAG
        )
    finally:
        dispose_engines()
    assert uitkomsten(results, A, B, C) == [
        (Uitkomst.JA, None),
        (Uitkomst.ONBEKEND, Reden.BRON_AMBIGU),
        (Uitkomst.NEE, None),
    ]
    assert [results[g.melding_id].dossierverantwoordelijke for g in (A, B, C)] == [
        "Schuldhulpmaatje Ruimhaven",  # the source names the team by id; the besluit's name is published
        "Team Wonen Ruimhaven",
        "Team Wonen Ruimhaven",
    ]


def test_lookup_returns_answers_and_detects_ambiguity(bron_engine: Any) -> None:
    q = "SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke FROM cjib WHERE bsn IN :bsns"
    answers = run_lookup(bron_engine, q, ["999000007", "999000019", "999000020"])
    assert answers == {
        "999000007": Antwoord.ja("schuldhulpmaatje"),
        "999000019": Antwoord.onbekend(Reden.BRON_AMBIGU),
        "999000020": Antwoord.nee(),  # no row: the adapter decides nee
    }


def test_lookup_with_extra_column_is_refused_without_values(bron_engine: Any) -> None:
    q = "SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke, bedrag FROM cjib WHERE bsn IN :bsns"
    with pytest.raises(SourceShapeError) as info:
        run_lookup(bron_engine, q, ["999000007"])
    assert info.value.reden_code == "lookup_kolommen_onjuist"
    assert "bedrag" in info.value.kolommen
    assert "4321" not in str(info.value) and "999000007" not in str(info.value)


def test_lookup_with_non_boolean_bekend_is_refused(bron_engine: Any) -> None:
    q = "SELECT bsn, flag AS bekend, team AS dossierverantwoordelijke FROM cjib WHERE bsn IN :bsns"
    with pytest.raises(SourceShapeError, match="lookup_waarde_ongeldig"):
        run_lookup(bron_engine, q, ["999000007"])


def test_lookup_about_people_not_asked_for_makes_the_chunk_onbekend(bron_engine: Any) -> None:
    """Rows that cannot be attributed to a requested BSN: no answer of the query can be trusted."""
    q = "SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke FROM cjib WHERE bsn IN :bsns OR 1 = 1"
    assert run_lookup(bron_engine, q, ["999000007", "999000020"]) == {
        "999000007": Antwoord.onbekend(Reden.BRON_VORM),
        "999000020": Antwoord.onbekend(Reden.BRON_VORM),  # no row of its own, yet not a nee
    }


def test_lookup_against_missing_table_is_a_source_error(bron_engine: Any) -> None:
    with pytest.raises(SourceError) as info:
        run_lookup(
            bron_engine,
            "SELECT bsn, 1 AS bekend, 'x' AS dossierverantwoordelijke FROM nope WHERE bsn IN :bsns",
            ["999000007"],
        )
    assert "999000007" not in str(info.value)


# --------------------------------------------------------------------------- a new kind


class TelefoonboekAdapter(BsnAdapter):
    """A source kind the pipeline does not ship: is the person in the (fictional) telefoonboek?"""

    kind = "telefoonboek_test"
    bronvragen = frozenset({"vast_nummer"})
    geopend: ClassVar[list[TelefoonboekAdapter]] = []

    def __init__(self, config: Settings) -> None:
        super().__init__(config)
        self.gesloten = False
        TelefoonboekAdapter.geopend.append(self)

    def answer_bsns(self, vraag: Vraag, bsns: Sequence[str]) -> dict[str, Antwoord]:
        assert vraag.entry.bronvraag == "vast_nummer" and vraag.besluit.verbinding == "telefoonboek"
        return {b: Antwoord.ja("Team Telefonie") if b == A.bsn else Antwoord.nee() for b in bsns}

    def close(self) -> None:
        self.gesloten = True


@pytest.fixture
def telefoonboek_project(tmp_path: Path) -> Path:
    """A copy of the project whose register and besluit 9901 add a check on the new kind."""
    for part in ("register", "sql", "expectations"):
        shutil.copytree(REPO / part, tmp_path / part)
    register_file = tmp_path / "register" / "verwerkingsregister.yaml"
    data = yaml.safe_load(register_file.read_text())
    entry = dict(data["checks"][-1])  # kinderen: a BSN-based check
    entry.update(
        {"id": "vaste_telefoon", "versie": 1, "bron": "telefoonboek_test", "bronvraag": "vast_nummer"}
    )
    entry.pop("in_onderzoek")  # a BRP rule; this kind marks nothing in onderzoek
    data["checks"].append(entry)
    register_file.write_text(yaml.safe_dump(data, allow_unicode=True))
    besluit_file = tmp_path / "register" / "besluiten" / "9901-ruimhaven.yaml"
    besluit = yaml.safe_load(besluit_file.read_text())
    besluit["teams"].append({"id": "telefonie", "naam": "Team Telefonie"})
    besluit["checks"]["vaste_telefoon"] = {"verbinding": "telefoonboek", "dossierverantwoordelijke": "jeugd"}
    besluit_file.write_text(yaml.safe_dump(besluit, allow_unicode=True))
    vastleggen(tmp_path / "register")
    return tmp_path


def test_a_new_source_kind_is_one_adapter_class(telefoonboek_project: Path) -> None:
    config = Settings.for_project(telefoonboek_project)
    with pytest.raises(RegisterError, match="onbekende bron telefoonboek_test"):
        load_policy(config.register_dir, config.sql_dir)  # not registered: the register is refused

    register_adapter(TelefoonboekAdapter)
    try:
        policy = load_policy(config.register_dir, config.sql_dir)
        entry: RegisterEntry = policy.register.entry("vaste_telefoon")
        with LiveSources(config) as sources:
            results = evalueer(entry, policy.besluit("9901"), [A, B], sources, DAG)
    finally:
        unregister_adapter(TelefoonboekAdapter.kind)
    assert uitkomsten(results, A, B) == [(Uitkomst.JA, None), (Uitkomst.NEE, None)]
    assert [results[g.melding_id].dossierverantwoordelijke for g in (A, B)] == [
        "Team Telefonie",
        "Team Jeugd Ruimhaven",
    ]
    assert len(TelefoonboekAdapter.geopend) == 1 and TelefoonboekAdapter.geopend[0].gesloten

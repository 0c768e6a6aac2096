"""Answers are about the person asked about, and say what the source says about its own record.

Three attacks on matching, each reproduced and shown to fail:

- **Source types.** A gemeentelijk system that keeps the BSN as an ``INTEGER``,
  ``BIGINT`` or ``NUMERIC`` (leading zeros lost) or as a padded ``CHAR(n)``
  returned rows the pipeline could not match on ``str(bsn)``. Both sides are now
  normalised to nine digits; a row that still matches no requested BSN makes its
  query chunk onbekend (``bron_vorm``), never a silent nee. Every type on SQLite
  and PostgreSQL, with the query forms the README gives query authors.
- **Documents of another person.** A Reisdocumenten answer about someone else
  gave ``ja``. The client now asks for ``houder.burgerservicenummer`` and a
  document of another holder is onbekend (``houder_onjuist``).
- **What the BRP says about its record.** ``opschortingBijhouding`` (overleden,
  emigratie...), ``indicatieVastgesteldVerblijftNietOpAdres`` and ``inOnderzoek``
  were ignored. The simulator now produces each signal as the official features
  do, and each is read through the real clients and through the in-process pipeline.

Every person is synthetic: 999-series BSNs from the simulator, except one
leading-zero BSN for the type tests (:data:`BSN_NUL`, see there).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from nazorg.bsn import is_valid_bsn
from nazorg.models import Reden
from nazorg.sources.answer import Antwoord
from nazorg.sources.errors import SourceError
from nazorg.sources.haal_centraal import (
    REISDOCUMENT_FIELDS,
    BrpPersonenClient,
    ReisdocumentenClient,
)
from nazorg.sources.sql_lookup import run_lookup
from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer
from nazorg_dev.sim.population import Persoon, population
from tests.oracle import expected

BSN_999 = population()[0].bsn  # a synthetic person of the simulator
BSN_GEEN = population()[1].bsn  # asked about, no row in the test source
#: The smallest number that passes the elfproef, 000000012: no person has it (BSNs are
#: issued far above it), so it is as synthetic as the 999 series and it has what the
#: type tests need, leading zeros an integer column drops. Built with is_valid_bsn.
BSN_NUL = next(f"{n:09d}" for n in range(1, 1000) if is_valid_bsn(f"{n:09d}"))
TEAM = "Team Matching"


def eerste(voorwaarde: Callable[[Persoon], bool]) -> Persoon:
    return next(p for p in population() if voorwaarde(p))


def index_van(persoon: Persoon) -> int:
    return population().index(persoon)


def test_the_leading_zero_bsn_is_what_the_docstring_says() -> None:
    assert BSN_NUL == "000000012" and is_valid_bsn(BSN_NUL)
    assert BSN_999.startswith("999") and BSN_GEEN.startswith("999")


# =========================================================================== source types

# column type -> how the source system holds a BSN in it
COLUMN_TYPES: dict[str, Callable[[str], object]] = {
    "INTEGER": int,
    "BIGINT": int,
    "NUMERIC(12,0)": int,
    "CHAR(12)": lambda bsn: bsn.ljust(12),  # a fixed-width export pads; SQLite keeps the spaces
    "VARCHAR(20)": str,
    "TEXT": str,
}


def query_for(dialect: str, column_type: str) -> str:
    """The README's rule for query authors: compare the column's canonical nine-digit form with :bsns."""
    kolom = "trim(bsn)" if dialect == "sqlite" and column_type.startswith("CHAR") else "bsn"
    return f"SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke FROM bron WHERE {kolom} IN :bsns"


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgres", marks=pytest.mark.integration),
    ]
)
def bron_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bron.db'}"
    url: str = request.getfixturevalue("fresh_postgres_db")
    return url


@pytest.fixture
def bron(bron_url: str) -> Iterator[Engine]:
    engine = create_engine(bron_url)
    yield engine
    engine.dispose()


def vul(engine: Engine, column_type: str, bsns: list[object], team_type: str = "TEXT") -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bron"))
        conn.execute(text(f"CREATE TABLE bron (bsn {column_type}, team {team_type})"))
        for bsn in bsns:
            conn.execute(text("INSERT INTO bron (bsn, team) VALUES (:b, :t)"), {"b": bsn, "t": TEAM})


@pytest.mark.parametrize("column_type", list(COLUMN_TYPES))
def test_every_column_type_finds_the_person_with_and_without_leading_zeros(
    bron: Engine, column_type: str
) -> None:
    """The attack: an INTEGER column returns 12 for 000000012, a CHAR(12) returns it padded;
    matched on str(bsn) the person was not found (the melding blocked, or a nee)."""
    als = COLUMN_TYPES[column_type]
    team_type = "CHAR(30)" if column_type.startswith("CHAR") else "TEXT"  # a padded team name too
    vul(bron, column_type, [als(BSN_999), als(BSN_NUL)], team_type)
    answers = run_lookup(bron, query_for(bron.dialect.name, column_type), [BSN_999, BSN_NUL, BSN_GEEN])
    assert answers == {
        BSN_999: Antwoord.ja(TEAM),
        BSN_NUL: Antwoord.ja(TEAM),
        BSN_GEEN: Antwoord.nee(),
    }


@pytest.mark.parametrize("column_type", ["VARCHAR(20)", "TEXT"])
def test_a_text_column_that_lost_its_leading_zeros_is_found_with_the_canonical_form(
    bron: Engine, column_type: str
) -> None:
    """Text imported from a spreadsheet holds '12': the README's canonical form finds it."""
    vul(bron, column_type, [str(int(BSN_NUL)), BSN_999])
    canoniek = {"sqlite": "printf('%09d', bsn)", "postgresql": "lpad(btrim(bsn), 9, '0')"}
    query = (
        "SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke FROM bron "
        f"WHERE {canoniek[bron.dialect.name]} IN :bsns"
    )
    answers = run_lookup(bron, query, [BSN_NUL, BSN_999, BSN_GEEN])
    assert answers == {BSN_NUL: Antwoord.ja(TEAM), BSN_999: Antwoord.ja(TEAM), BSN_GEEN: Antwoord.nee()}


def test_a_row_that_matches_no_requested_bsn_makes_its_chunk_onbekend_never_nee(
    bron: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row whose bsn normalises to no requested BSN (here: a key with separators) cannot be
    attributed; it may be the requested person's own row, so every answer of its chunk is open."""
    from nazorg.sources import sql_lookup

    monkeypatch.setattr(sql_lookup, "CHUNK", 2)
    mangled = f"{BSN_NUL[:3]}-{BSN_NUL[3:]}"
    vul(bron, "TEXT", [mangled, BSN_999])
    query = (
        "SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke FROM bron "
        "WHERE replace(bsn, '-', '') IN :bsns"
    )
    answers = run_lookup(bron, query, [BSN_NUL, BSN_GEEN, BSN_999])
    assert answers == {
        BSN_NUL: Antwoord.onbekend(Reden.BRON_VORM),  # its row came back, but cannot be attributed
        BSN_GEEN: Antwoord.onbekend(Reden.BRON_VORM),  # no row of its own, yet not a nee
        BSN_999: Antwoord.ja(TEAM),  # another chunk: its rows are all attributable
    }


@pytest.mark.unit
@pytest.mark.parametrize(
    ("value", "canoniek"),
    [
        ("999000011", "999000011"),
        (12, "000000012"),
        ("000000012   ", "000000012"),
        ("  12", "000000012"),
        (999999999, "999999999"),
        (Decimal("12"), "000000012"),
        (Decimal("12.5"), None),
        (12.0, None),  # a float: refuse to guess
        (True, None),
        (-12, None),
        (1_000_000_000, None),
        ("0000000012", None),  # ten digits
        ("000-000-012", None),
        ("١٢", None),  # digits, not ASCII
        ("", None),
        (None, None),
        (b"000000012", None),
    ],
)
def test_canonieke_bsn(value: object, canoniek: str | None) -> None:
    from nazorg.sources.sql_lookup import canonieke_bsn

    assert canonieke_bsn(value) == canoniek


@pytest.mark.unit
def test_the_lookup_refuses_a_non_canonical_bsn_to_ask_about(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'b.db'}")
    with pytest.raises(ValueError, match="nine digits") as info:
        run_lookup(engine, "SELECT 1", ["12"])
    assert "12" not in str(info.value).replace("nine", "")
    engine.dispose()


# =========================================================================== the simulator

PEILDATUM = date.today()
HTTP = httpx.Client(timeout=5)


@pytest.fixture(scope="module")
def sim() -> Iterator[HaalCentraalSimServer]:
    with HaalCentraalSimServer(port=0, timeout_sleep_s=2.0) as server:
        yield server
    HTTP.close()


@pytest.fixture(autouse=True)
def _geen_storing(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sim" in request.fixturenames:
        request.getfixturevalue("sim").configure(fault=None)


@pytest.fixture
def brp(sim: HaalCentraalSimServer) -> Iterator[BrpPersonenClient]:
    with BrpPersonenClient(sim.brp_base_url, timeout=2.0, backoff_s=0.01) as client:
        yield client


@pytest.fixture
def reis(sim: HaalCentraalSimServer) -> Iterator[ReisdocumentenClient]:
    with ReisdocumentenClient(sim.reisdocumenten_base_url, timeout=2.0, backoff_s=0.01) as client:
        yield client


def personen(sim: HaalCentraalSimServer, bsns: list[str], fields: list[str]) -> httpx.Response:
    query = {"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": bsns, "fields": fields}
    return HTTP.post(f"{sim.brp_base_url}/personen", json=query)


def reisdocumenten(sim: HaalCentraalSimServer, bsn: str, fields: list[str]) -> httpx.Response:
    query = {"type": "ZoekMetBurgerservicenummer", "burgerservicenummer": bsn, "fields": fields}
    return HTTP.post(f"{sim.reisdocumenten_base_url}/reisdocumenten", json=query)


def spec_validator(filename: str, schema: str) -> Any:
    import yaml
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    from nazorg_dev.sim.haal_centraal.spec import spec_text

    document = yaml.safe_load(spec_text(filename))
    registry: Registry[Any] = Registry().with_resource("urn:spec", DRAFT202012.create_resource(document))
    return Draft202012Validator({"$ref": f"urn:spec#/components/schemas/{schema}"}, registry=registry)


OVERLEDEN = eerste(lambda p: p.opschorting == "O" and p.verblijf == "woonadres" and p.heeft_geldig_id)
OPGESCHORT = eerste(lambda p: p.opschorting not in (None, "O") and bool(p.reisdocumenten))
NIET_OP_ADRES = eerste(
    lambda p: p.verblijft_niet_op_adres and p.verblijf == "woonadres" and p.opschorting is None
)
ADRES_IN_ONDERZOEK = eerste(
    lambda p: (
        p.verblijfplaats_in_onderzoek
        and p.verblijf == "woonadres"
        and not (p.verblijft_niet_op_adres or p.bsn_in_onderzoek or p.opschorting)
    )
)
BSN_IN_ONDERZOEK = eerste(lambda p: p.bsn_in_onderzoek and p.opschorting is None and p.heeft_geldig_id)
# the only minor kind is in onderzoek, and the only valid document: the plain answer would be ja
KIND_IN_ONDERZOEK = eerste(
    lambda p: (
        any(p.kinderen_in_onderzoek)
        and all((age < 18 * 365) == o for age, o in zip(p.kinderen_leeftijd_dagen, p.kinderen_in_onderzoek))
        and not (p.opschorting or p.bsn_in_onderzoek)
    )
)
DOCUMENT_IN_ONDERZOEK = eerste(
    lambda p: (
        any(d.in_onderzoek for d in p.reisdocumenten)
        and all(
            d.in_onderzoek == (not d.ingehouden_of_vermist and d.geldig_dagen >= 0) for d in p.reisdocumenten
        )
        and not (p.opschorting or p.bsn_in_onderzoek)
    )
)
ZONDER_GELDIG_ID = eerste(
    lambda p: not p.heeft_brp_signaal and not p.heeft_geldig_id and bool(p.reisdocumenten)
)


@pytest.mark.integration
def test_the_simulator_delivers_every_signal_unasked_and_inside_the_spec(sim: HaalCentraalSimServer) -> None:
    from nazorg_dev.sim.haal_centraal.spec import PERSONEN_SPEC, REISDOCUMENTEN_SPEC

    persoon_schema = spec_validator(PERSONEN_SPEC, "Persoon")
    document_schema = spec_validator(REISDOCUMENTEN_SPEC, "Reisdocument")
    fields = ["burgerservicenummer", "verblijfplaats.functieAdres", "kinderen.geboorte.datum"]
    bsns = [
        p.bsn
        for p in (
            OVERLEDEN,
            OPGESCHORT,
            NIET_OP_ADRES,
            ADRES_IN_ONDERZOEK,
            BSN_IN_ONDERZOEK,
            KIND_IN_ONDERZOEK,
        )
    ]
    body = personen(sim, bsns, fields).json()
    per_bsn = {p["burgerservicenummer"]: p for p in body["personen"]}
    for persoon in per_bsn.values():
        assert list(persoon_schema.iter_errors(persoon)) == []

    opgeschort = per_bsn[OVERLEDEN.bsn]["opschortingBijhouding"]
    assert opgeschort["reden"] == {"code": "O", "omschrijving": "overlijden"}
    assert opgeschort["datum"]["type"] == "Datum"
    assert "overlijden" not in per_bsn[OVERLEDEN.bsn]  # not asked, not delivered
    assert per_bsn[OPGESCHORT.bsn]["opschortingBijhouding"]["reden"]["code"] == OPGESCHORT.opschorting

    niet_op_adres = per_bsn[NIET_OP_ADRES.bsn]["verblijfplaats"]
    assert niet_op_adres["indicatieVastgesteldVerblijftNietOpAdres"] is True
    assert set(niet_op_adres["inOnderzoek"]) == {"type", "functieAdres", "datumIngangOnderzoek"}
    assert "verblijfadres" not in niet_op_adres  # markers only of what was delivered

    onderzoek = per_bsn[ADRES_IN_ONDERZOEK.bsn]["verblijfplaats"]
    assert onderzoek["inOnderzoek"]["functieAdres"] is True
    assert "indicatieVastgesteldVerblijftNietOpAdres" not in onderzoek

    assert per_bsn[BSN_IN_ONDERZOEK.bsn]["inOnderzoek"]["burgerservicenummer"] is True
    kinderen = per_bsn[KIND_IN_ONDERZOEK.bsn]["kinderen"]
    gemarkeerd = [k["geboorte"].get("inOnderzoek", {}).get("datum") is True for k in kinderen]
    assert gemarkeerd == list(KIND_IN_ONDERZOEK.kinderen_in_onderzoek)

    # markers only come with the fields they mark: no verblijfplaats asked, no marker, no indicatie
    alleen_bsn = personen(sim, [NIET_OP_ADRES.bsn, BSN_IN_ONDERZOEK.bsn], ["verblijfplaats.datumVan"]).json()
    for persoon in alleen_bsn["personen"]:
        assert "inOnderzoek" not in persoon
    for persoon in personen(sim, [NIET_OP_ADRES.bsn], ["burgerservicenummer"]).json()["personen"]:
        assert set(persoon) == {"burgerservicenummer"}

    # Reisdocumenten: houder.opschortingBijhouding comes even when nothing of the houder is asked
    documenten = reisdocumenten(sim, OVERLEDEN.bsn, ["datumEindeGeldigheid"]).json()["reisdocumenten"]
    assert documenten and all(
        d["houder"]["opschortingBijhouding"]["reden"]["code"] == "O" for d in documenten
    )
    assert all(set(d["houder"]) == {"opschortingBijhouding"} for d in documenten)
    documenten = reisdocumenten(sim, BSN_IN_ONDERZOEK.bsn, list(REISDOCUMENT_FIELDS)).json()["reisdocumenten"]
    assert all(d["houder"]["inOnderzoek"]["burgerservicenummer"] is True for d in documenten)
    documenten = reisdocumenten(sim, DOCUMENT_IN_ONDERZOEK.bsn, list(REISDOCUMENT_FIELDS)).json()
    for document, bron in zip(
        documenten["reisdocumenten"], DOCUMENT_IN_ONDERZOEK.reisdocumenten, strict=True
    ):
        assert ("inOnderzoek" in document) == bron.in_onderzoek
        assert list(document_schema.iter_errors(document)) == []


@pytest.mark.integration
@pytest.mark.parametrize(
    ("api", "veld"),
    [
        ("personen", "verblijfplaats.indicatieVastgesteldVerblijftNietOpAdres"),
        ("personen", "opschortingBijhouding.reden"),
        ("personen", "kinderen.geboorte.inOnderzoek"),
        ("reisdocumenten", "houder.opschortingBijhouding"),
        ("reisdocumenten", "inOnderzoek.datumEindeGeldigheid"),
    ],
)
def test_asking_for_a_signal_in_fields_is_refused_as_by_the_api(
    sim: HaalCentraalSimServer, api: str, veld: str
) -> None:
    response = personen(sim, [BSN_999], [veld]) if api == "personen" else reisdocumenten(sim, BSN_999, [veld])
    assert response.status_code == 400
    assert {(p["name"], p["code"]) for p in response.json()["invalidParams"]} == {("fields[0]", "fields")}


# =========================================================================== documents of another person


@pytest.mark.integration
def test_a_document_of_another_holder_is_onbekend_never_ja(
    sim: HaalCentraalSimServer, reis: ReisdocumentenClient
) -> None:
    """The attack: the answer carries someone else's valid passport; the old client said ja."""
    assert reis.geldig_id(ZONDER_GELDIG_ID.bsn, PEILDATUM) == Antwoord.nee()
    sim.configure(fault="andere_houder")
    assert reis.geldig_id(ZONDER_GELDIG_ID.bsn, PEILDATUM) == Antwoord.onbekend(Reden.HOUDER_ONJUIST)
    many = reis.geldig_id_many([ZONDER_GELDIG_ID.bsn, OVERLEDEN.bsn], PEILDATUM)
    assert set(many.values()) == {Antwoord.onbekend(Reden.HOUDER_ONJUIST)}


@pytest.mark.integration
def test_a_persoon_the_brp_was_not_asked_about_is_a_source_error(
    sim: HaalCentraalSimServer, brp: BrpPersonenClient
) -> None:
    sim.configure(fault="andere_houder")
    with pytest.raises(SourceError, match="onverwachte persoon"):
        brp.woonadres([BSN_999])


@pytest.mark.unit
@pytest.mark.parametrize(
    "houder",
    [{"burgerservicenummer": "999000011"}, {}, None, {"burgerservicenummer": 999000023}],
    ids=["ander", "zonder-bsn", "zonder-houder", "bsn-als-getal"],
)
def test_the_holder_must_be_the_person_asked_about(houder: dict[str, Any] | None) -> None:
    from nazorg.sources.haal_centraal import reisdocumenten_uitslag

    geldig = {"type": "Datum", "datum": "2099-01-01"}
    eigen = {"datumEindeGeldigheid": geldig, "houder": {"burgerservicenummer": "999000023"}}
    vreemd: dict[str, Any] = {"datumEindeGeldigheid": geldig}
    if houder is not None:
        vreemd["houder"] = houder
    assert reisdocumenten_uitslag([eigen], "999000023", PEILDATUM) is True
    assert reisdocumenten_uitslag([eigen, vreemd], "999000023", PEILDATUM) == Reden.HOUDER_ONJUIST


@pytest.mark.unit
def test_the_client_asks_only_the_holders_bsn_to_verify_the_holder() -> None:
    assert REISDOCUMENT_FIELDS == (
        "datumEindeGeldigheid",
        "inhoudingOfVermissing.aanduiding",
        "houder.burgerservicenummer",
    )


# =========================================================================== what the BRP says


@pytest.mark.integration
def test_an_overleden_person_has_no_woonadres_kinderen_or_id_answer(
    brp: BrpPersonenClient, reis: ReisdocumentenClient
) -> None:
    """The attack: opschorting O, yet onderdak ja (a woonadres) and id_bewijs ja (the holder's document)."""
    overleden = Antwoord.onbekend(Reden.PERSOON_OVERLEDEN)
    assert brp.woonadres([OVERLEDEN.bsn]) == {OVERLEDEN.bsn: overleden}
    assert brp.minderjarige_kinderen([OVERLEDEN.bsn], PEILDATUM) == {OVERLEDEN.bsn: overleden}
    assert reis.geldig_id(OVERLEDEN.bsn, PEILDATUM) == overleden
    # an onderzoek rule does not make a record that is no longer kept answerable
    assert brp.woonadres([OVERLEDEN.bsn], in_onderzoek="negeren") == {OVERLEDEN.bsn: overleden}


@pytest.mark.integration
def test_any_other_opschorting_is_bijhouding_opgeschort(
    brp: BrpPersonenClient, reis: ReisdocumentenClient
) -> None:
    opgeschort = Antwoord.onbekend(Reden.BIJHOUDING_OPGESCHORT)
    assert brp.woonadres([OPGESCHORT.bsn]) == {OPGESCHORT.bsn: opgeschort}
    assert reis.geldig_id(OPGESCHORT.bsn, PEILDATUM) == opgeschort


@pytest.mark.integration
def test_an_address_established_not_to_be_lived_at_is_no_woonadres(brp: BrpPersonenClient) -> None:
    """The attack: functieAdres W with indicatieVastgesteldVerblijftNietOpAdres counted as a woonadres."""
    assert NIET_OP_ADRES.verblijf == "woonadres"  # the registered functieAdres is W
    assert brp.woonadres([NIET_OP_ADRES.bsn]) == {NIET_OP_ADRES.bsn: Antwoord.nee()}
    assert brp.woonadres([NIET_OP_ADRES.bsn], in_onderzoek="negeren") == {NIET_OP_ADRES.bsn: Antwoord.nee()}


@pytest.mark.integration
def test_in_onderzoek_follows_the_register_rule(brp: BrpPersonenClient, reis: ReisdocumentenClient) -> None:
    """``onbekend``: a field the answer rests on in onderzoek leaves it open.

    ``negeren``: the answer rests on the registered value.
    """
    in_onderzoek = Antwoord.onbekend(Reden.BRON_IN_ONDERZOEK)
    adres, kind, document, bsn = (
        ADRES_IN_ONDERZOEK,
        KIND_IN_ONDERZOEK,
        DOCUMENT_IN_ONDERZOEK,
        BSN_IN_ONDERZOEK,
    )

    assert brp.woonadres([adres.bsn]) == {adres.bsn: in_onderzoek}
    assert brp.woonadres([adres.bsn], in_onderzoek="negeren") == {adres.bsn: Antwoord.ja()}

    assert brp.minderjarige_kinderen([kind.bsn], PEILDATUM) == {kind.bsn: in_onderzoek}
    negeren = brp.minderjarige_kinderen([kind.bsn], PEILDATUM, in_onderzoek="negeren")
    assert negeren == {kind.bsn: Antwoord.ja()}

    assert reis.geldig_id(document.bsn, PEILDATUM) == in_onderzoek
    assert reis.geldig_id(document.bsn, PEILDATUM, in_onderzoek="negeren") == Antwoord.ja()

    # the BSN itself in onderzoek: it is unsure the record is the person asked about
    assert brp.woonadres([bsn.bsn]) == {bsn.bsn: in_onderzoek}
    assert reis.geldig_id(bsn.bsn, PEILDATUM) == in_onderzoek
    assert reis.geldig_id(bsn.bsn, PEILDATUM, in_onderzoek="negeren") == Antwoord.ja()


@pytest.mark.integration
def test_every_person_with_a_signal_gets_the_oracles_answer(
    brp: BrpPersonenClient, sim: HaalCentraalSimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All of them, and a BSN the BRP does not know, through the real clients and the id_bewijs
    adapter (Reisdocumenten with its nee confirmed in BRP Personen): the oracle the pipeline
    tests use agrees with them."""
    from nazorg.connections import http_connection_json
    from nazorg.register import default_policy
    from nazorg.settings import settings
    from nazorg.sources.builtin import ReisdocumentenAdapter
    from nazorg.sources.kinds import Vraag
    from nazorg_dev.sim.population import synthetic_bsns

    met_signaal = [p for p in population() if p.heeft_brp_signaal]
    assert len(met_signaal) > 100
    onbekend = next(synthetic_bsns(int(population()[-1].bsn) + 1))  # valid, not in the BRP
    bsns = [p.bsn for p in met_signaal] + [onbekend]
    monkeypatch.setenv("AIRFLOW_CONN_HAAL_CENTRAAL_BRP", http_connection_json(sim.brp_base_url))
    monkeypatch.setenv(
        "AIRFLOW_CONN_HAAL_CENTRAAL_REISDOCUMENTEN", http_connection_json(sim.reisdocumenten_base_url)
    )
    policy = default_policy()
    vraag = Vraag(policy.register.entry("id_bewijs"), policy.besluit("9901").checks["id_bewijs"], PEILDATUM)
    reis = ReisdocumentenAdapter(settings())
    try:
        antwoorden = {
            "onderdak": brp.woonadres(bsns),
            "kinderen": brp.minderjarige_kinderen(bsns, PEILDATUM),
            "id_bewijs": reis.answer_bsns(vraag, bsns),
        }
    finally:
        reis.close()
    gezien: set[tuple[str, str | None]] = set()
    for bsn in bsns:
        for check_id, per_bsn in antwoorden.items():
            antwoord = per_bsn[bsn]
            uitkomst = "onbekend" if antwoord.bekend is None else ("ja" if antwoord.bekend else "nee")
            got = (uitkomst, antwoord.reden.value if antwoord.reden else None)
            assert got == expected(check_id, bsn, "9901"), (check_id, bsns.index(bsn))
            gezien.add(got)
    assert {
        ("onbekend", "persoon_overleden"),
        ("onbekend", "bijhouding_opgeschort"),
        ("onbekend", "bron_in_onderzoek"),
        ("onbekend", "persoon_niet_gevonden"),
        ("ja", None),
        ("nee", None),
    } <= gezien


@pytest.mark.unit
@pytest.mark.parametrize(
    ("signaal", "verwacht"),
    [
        ({"opschortingBijhouding": {"reden": {"code": "O"}}}, Reden.PERSOON_OVERLEDEN),
        *[
            ({"opschortingBijhouding": {"reden": {"code": code}}}, Reden.BIJHOUDING_OPGESCHORT)
            for code in ("E", "M", "R", "F", ".", "X")
        ],
        ({"opschortingBijhouding": {}}, Reden.BIJHOUDING_OPGESCHORT),  # unreadable still counts
        ({"opschortingBijhouding": "ja"}, Reden.BIJHOUDING_OPGESCHORT),
        ({"inOnderzoek": {"burgerservicenummer": True}}, Reden.BRON_IN_ONDERZOEK),
        ({"inOnderzoek": "?"}, Reden.BRON_IN_ONDERZOEK),
        ({"inOnderzoek": {"burgerservicenummer": False}}, True),  # marks nothing
        ({"inOnderzoek": {}}, True),
        ({"geheimhoudingPersoonsgegevens": True}, True),  # not about the truth of the answer
    ],
)
def test_record_signals_on_a_person_with_a_woonadres(signaal: dict[str, Any], verwacht: object) -> None:
    from nazorg.sources.haal_centraal import woonadres_uitslag

    persoon = {
        "burgerservicenummer": BSN_999,
        "verblijfplaats": {"type": "Adres", "functieAdres": {"code": "W"}},
        **signaal,
    }
    assert woonadres_uitslag(persoon) == verwacht


@pytest.mark.unit
@pytest.mark.parametrize(
    ("verblijfplaats", "verwacht"),
    [
        ({"type": "Adres", "functieAdres": {"code": "W"}}, True),
        (
            {
                "type": "Adres",
                "functieAdres": {"code": "W"},
                "indicatieVastgesteldVerblijftNietOpAdres": True,
            },
            False,
        ),
        (
            {
                "type": "Locatie",
                "functieAdres": {"code": "W"},
                "indicatieVastgesteldVerblijftNietOpAdres": True,
            },
            False,
        ),
        (
            {
                "type": "Adres",
                "functieAdres": {"code": "W"},
                "indicatieVastgesteldVerblijftNietOpAdres": True,
                "inOnderzoek": {"type": True, "functieAdres": True},
            },
            False,  # the indicatie is the outcome of the onderzoek that marks the address
        ),
        (
            {"type": "Adres", "functieAdres": {"code": "W"}, "indicatieVastgesteldVerblijftNietOpAdres": 1},
            Reden.BRON_AMBIGU,
        ),
        (
            {"type": "Adres", "functieAdres": {"code": "W"}, "inOnderzoek": {"functieAdres": True}},
            Reden.BRON_IN_ONDERZOEK,
        ),
        (
            {
                "type": "Adres",
                "functieAdres": {"code": "B"},
                "verblijfadres": {"inOnderzoek": {"postcode": True}},
            },
            Reden.BRON_IN_ONDERZOEK,
        ),
        ({"type": "VerblijfplaatsOnbekend", "inOnderzoek": {"type": True}}, Reden.BRON_IN_ONDERZOEK),
    ],
)
def test_verblijfplaats_signals(verblijfplaats: dict[str, Any], verwacht: object) -> None:
    from nazorg.sources.haal_centraal import heeft_woonadres, woonadres_uitslag

    persoon = {"burgerservicenummer": BSN_999, "verblijfplaats": verblijfplaats}
    assert woonadres_uitslag(persoon) == verwacht
    if "indicatieVastgesteldVerblijftNietOpAdres" in verblijfplaats:  # the plain mapping agrees
        assert heeft_woonadres(persoon) is (False if verwacht is False else None)


@pytest.mark.unit
def test_one_kind_that_is_certainly_a_minor_settles_kinderen_despite_another_in_onderzoek() -> None:
    from nazorg.sources.haal_centraal import kinderen_uitslag

    minor = {"geboorte": {"datum": {"type": "Datum", "datum": "2020-01-01"}}}
    adult = {"geboorte": {"datum": {"type": "Datum", "datum": "1990-01-01"}}}
    onderzocht = {"geboorte": {**adult["geboorte"], "inOnderzoek": {"datum": True}}}
    peildatum = date(2026, 11, 29)
    assert kinderen_uitslag({"kinderen": [onderzocht, minor]}, peildatum) is True
    assert kinderen_uitslag({"kinderen": [onderzocht, adult]}, peildatum) == Reden.BRON_IN_ONDERZOEK
    assert kinderen_uitslag({"kinderen": [onderzocht, adult]}, peildatum, "negeren") is False


@pytest.mark.unit
def test_a_document_whose_inhouding_is_in_onderzoek_is_open() -> None:
    from nazorg.sources.haal_centraal import reisdocumenten_uitslag

    houder = {"burgerservicenummer": BSN_999}
    ingehouden = {
        "datumEindeGeldigheid": {"type": "Datum", "datum": "2099-01-01"},
        "inhoudingOfVermissing": {"aanduiding": {"code": "I"}, "inOnderzoek": {"aanduiding": True}},
        "houder": houder,
    }
    assert reisdocumenten_uitslag([ingehouden], BSN_999, PEILDATUM) == Reden.BRON_IN_ONDERZOEK
    assert reisdocumenten_uitslag([ingehouden], BSN_999, PEILDATUM, "negeren") is False


# =========================================================================== the register rule


@pytest.mark.unit
def test_a_haal_centraal_check_must_say_what_in_onderzoek_means_and_others_may_not() -> None:
    from nazorg.register import default_policy
    from nazorg.sources.kinds import adapter_class

    register = default_policy().register
    for check_id in ("onderdak", "kinderen", "id_bewijs"):
        entry = register.entry(check_id)
        assert entry.in_onderzoek == "onbekend"
        kind = adapter_class(entry.bron)
        assert kind.register_problems(entry) == []
        zonder = entry.model_copy(update={"in_onderzoek": None})
        assert kind.register_problems(zonder) == [
            f"register: {check_id}: bron {entry.bron} vraagt in_onderzoek (onbekend | negeren)"
        ]
    sql = register.entry("schuld_cjib")
    assert sql.in_onderzoek is None
    met = sql.model_copy(update={"in_onderzoek": "negeren"})
    assert adapter_class(sql.bron).register_problems(met) == [
        "register: schuld_cjib: bron gemeentelijk_sql kent geen in_onderzoek"
    ]


# =========================================================================== through the pipeline


@pytest.mark.pipeline
def test_the_brp_signals_reach_the_published_basisdocument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sim: HaalCentraalSimServer, sqlite_bronnen: str
) -> None:
    """An overleden person and an address not lived at, from melding to published document (gemeente 9901)."""
    from nazorg.settings import SOURCE_ROOT
    from nazorg_dev.sim.meldingen import meldingen
    from tests.pipeline.test_pipeline_steps import _published_outcomes, _world

    personen_9901 = [
        eerste(lambda p: p.opschorting == "O" and p.gemeente_code == "9901" and p.verblijf == "woonadres"),
        eerste(
            lambda p: p.verblijft_niet_op_adres and p.gemeente_code == "9901" and p.verblijf == "woonadres"
        ),
    ]
    overleden = personen_9901[0]
    assert overleden.heeft_geldig_id  # the plain answers would be ja, ja
    world = _world(tmp_path, monkeypatch, sim, sqlite_bronnen, SOURCE_ROOT)
    records = [next(meldingen(1, offset=index_van(p))) for p in personen_9901]
    for melding_id in world.submit(records):
        world.run(melding_id)

    dood = _published_outcomes(world, records[0]["melding_id"])
    assert dood["onderdak"] == ("onbekend", "persoon_overleden")
    assert dood["id_bewijs"] == ("onbekend", "persoon_overleden")
    assert dood["kinderen"] == ("onbekend", "persoon_overleden")
    assert _published_outcomes(world, records[1]["melding_id"])["onderdak"] == ("nee", None)
    for record in records:
        assert _published_outcomes(world, record["melding_id"]) == {
            check_id: expected(check_id, record["bsn"], "9901") for check_id in world.rt.policy.register.ids
        }
    published = json.dumps([r["inhoud"] for r in world.store.query("outbox_list")])
    assert not any(r["bsn"] in published for r in records)

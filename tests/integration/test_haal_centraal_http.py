"""The real clients against the local Haal Centraal server, over HTTP.

Proves the contract (POST, ``type``, mandatory minimal ``fields``, problem+json),
the chunking, that every requested BSN gets an :class:`Antwoord`, and that every
failure mode ends in a SourceError (or an onbekend answer) and never in nee.
All BSNs are synthetic 999-series test numbers from the population.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
import yaml

from nazorg.connections import http_connection_json
from nazorg.models import Reden
from nazorg.sources.answer import Antwoord
from nazorg.sources.errors import SourceError, SourceTimeout, SourceUnavailable
from nazorg.sources.haal_centraal import (
    KINDEREN_FIELDS,
    REISDOCUMENT_FIELDS,
    WOONADRES_FIELDS,
    BrpPersonenClient,
    ReisdocumentenClient,
)
from nazorg_dev.sim import population as pop
from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer
from nazorg_dev.sim.haal_centraal.spec import PERSONEN_SPEC, REISDOCUMENTEN_SPEC, spec_text

pytestmark = pytest.mark.integration

# persons whose BRP record carries no signals (opschorting, onderzoek): their answers are
# the population's plain truth; tests/security/test_matching.py covers the signals
PERSONEN = [p for p in pop.population() if not p.heeft_brp_signaal][:50]
BSNS = [p.bsn for p in PERSONEN]
ONBEKEND_BSN = next(pop.synthetic_bsns(int(pop.population()[-1].bsn) + 1))  # valid, not in the BRP
HEADERS = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
DEFAULT_CONFIG: dict[str, Any] = {
    "latency_ms": 0,
    "fault": None,
    "fault_rate": 1.0,
    "fault_first_n": None,
    "fault_seed": 0,
    "timeout_sleep_s": 2.0,
}


HTTP = httpx.Client(timeout=5)  # one client for raw calls: a new one per call costs ~40 ms


@pytest.fixture(scope="module")
def sim() -> Iterator[HaalCentraalSimServer]:
    with HaalCentraalSimServer(port=0, timeout_sleep_s=2.0) as server:
        yield server
    HTTP.close()


def configure(sim: HaalCentraalSimServer, **changes: Any) -> None:
    response = HTTP.post(f"{sim.base_url}/_sim/config", json=changes)
    assert response.status_code == 200, response.text


def stats(sim: HaalCentraalSimServer) -> dict[str, Any]:
    response = HTTP.get(f"{sim.base_url}/_sim/stats")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture(autouse=True)
def schone_server(sim: HaalCentraalSimServer) -> None:
    configure(sim, **DEFAULT_CONFIG)
    HTTP.post(f"{sim.base_url}/_sim/reset")


@pytest.fixture
def brp(sim: HaalCentraalSimServer) -> Iterator[BrpPersonenClient]:
    with BrpPersonenClient(sim.brp_base_url, timeout=2.0, backoff_s=0.01) as client:
        yield client


@pytest.fixture
def reis(sim: HaalCentraalSimServer) -> Iterator[ReisdocumentenClient]:
    with ReisdocumentenClient(sim.reisdocumenten_base_url, timeout=2.0, backoff_s=0.01) as client:
        yield client


def post(url: str, body: object, headers: dict[str, str] = HEADERS) -> httpx.Response:
    return HTTP.post(url, content=json.dumps(body), headers=headers)


def personen_query(bsns: list[str], fields: list[str]) -> dict[str, Any]:
    return {"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": bsns, "fields": fields}


# --------------------------------------------------------------------------- happy path


def test_woonadres_voor_45_bsns_kost_precies_3_requests(
    sim: HaalCentraalSimServer, brp: BrpPersonenClient
) -> None:
    antwoorden = brp.woonadres(BSNS[:45])
    assert stats(sim)["requests"]["personen"] == 3
    assert antwoorden == {p.bsn: Antwoord(p.verblijf == "woonadres") for p in PERSONEN[:45]}


def test_antwoorden_komen_overeen_met_de_populatie(
    sim: HaalCentraalSimServer, brp: BrpPersonenClient, reis: ReisdocumentenClient
) -> None:
    vandaag = date.today()
    woonadres = brp.woonadres(BSNS)
    kinderen = brp.minderjarige_kinderen(BSNS, vandaag)
    geldig_id = reis.geldig_id_many(BSNS, vandaag, max_concurrency=4)
    for persoon in PERSONEN:
        assert woonadres[persoon.bsn] == Antwoord(persoon.verblijf == "woonadres")
        assert kinderen[persoon.bsn] == Antwoord(persoon.heeft_minderjarige_kinderen)
        assert geldig_id[persoon.bsn] == Antwoord(persoon.heeft_geldig_id)
    # the sample covers every answer, so the comparison means something
    assert {p.verblijf for p in PERSONEN} == {"woonadres", "briefadres", "onbekend", "buitenland"}
    assert {a.bekend for a in kinderen.values()} == {True, False}
    assert {a.bekend for a in geldig_id.values()} == {True, False}
    assert stats(sim)["requests"] == {"personen": 6, "reisdocumenten": 50}


def test_onbekende_persoon(brp: BrpPersonenClient, reis: ReisdocumentenClient) -> None:
    niet_gevonden = Antwoord.onbekend(Reden.PERSOON_NIET_GEVONDEN)
    assert brp.woonadres([ONBEKEND_BSN, BSNS[0]]) == {
        ONBEKEND_BSN: niet_gevonden,
        BSNS[0]: Antwoord(PERSONEN[0].verblijf == "woonadres"),
    }
    assert brp.minderjarige_kinderen([ONBEKEND_BSN], date.today()) == {ONBEKEND_BSN: niet_gevonden}
    assert reis.geldig_id(ONBEKEND_BSN, date.today()) == Antwoord.nee()  # the API returns []


def test_client_vraagt_minimale_fields_met_de_juiste_headers(sim: HaalCentraalSimServer) -> None:
    requests: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [requests.append]})
    with (
        BrpPersonenClient(sim.brp_base_url, api_key="sleutel", client=http) as brp,
        ReisdocumentenClient(sim.reisdocumenten_base_url, client=http) as reis,
    ):
        brp.woonadres(BSNS[:2])
        brp.minderjarige_kinderen(BSNS[:2], date.today())
        reis.geldig_id(BSNS[0], date.today())
    http.close()
    bodies = [json.loads(r.content) for r in requests]
    assert [r.method for r in requests] == ["POST"] * 3
    assert bodies[0] == personen_query(BSNS[:2], list(WOONADRES_FIELDS))
    assert bodies[1]["fields"] == list(KINDEREN_FIELDS)
    assert bodies[2] == {
        "type": "ZoekMetBurgerservicenummer",
        "burgerservicenummer": BSNS[0],
        "fields": list(REISDOCUMENT_FIELDS),
    }
    assert requests[0].headers["Content-Type"] == "application/json; charset=utf-8"
    assert requests[0].headers["Accept"] == "application/json"
    assert requests[0].headers["X-API-KEY"] == "sleutel"
    assert "X-API-KEY" not in requests[2].headers


# --------------------------------------------------------------------------- server contract


def test_fields_levert_alleen_de_gevraagde_paden(sim: HaalCentraalSimServer) -> None:
    url = f"{sim.brp_base_url}/personen"
    response = post(url, personen_query(BSNS[:20], ["burgerservicenummer", "verblijfplaats.functieAdres"]))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["type"] == "RaadpleegMetBurgerservicenummer"
    assert len(body["personen"]) == 20
    for persoon in body["personen"]:
        assert set(persoon) == {"burgerservicenummer", "verblijfplaats"}
        verblijfplaats = persoon["verblijfplaats"]
        assert "type" in verblijfplaats  # the discriminator always comes along
        assert set(verblijfplaats) <= {"type", "functieAdres"}
        assert (verblijfplaats["type"] == "Adres") == ("functieAdres" in verblijfplaats)

    body = post(url, personen_query(BSNS[:20], ["kinderen.geboorte.datum"])).json()
    met_kinderen = [p for p in body["personen"] if p]
    assert met_kinderen
    for persoon in met_kinderen:
        assert set(persoon) == {"kinderen"}
        for kind in persoon["kinderen"]:
            assert set(kind) == {"geboorte"}
            assert set(kind["geboorte"]) == {"datum"}
            assert kind["geboorte"]["datum"]["type"] == "Datum"

    woont = next(p for p in PERSONEN if p.verblijf == "woonadres")
    body = post(url, personen_query([woont.bsn], ["verblijfplaats", "naam.geslachtsnaam"])).json()
    (persoon,) = body["personen"]
    assert set(persoon) == {"verblijfplaats", "naam"}
    assert set(persoon["naam"]) == {"geslachtsnaam"}
    assert persoon["verblijfplaats"]["functieAdres"] == {"code": "W", "omschrijving": "woonadres"}
    assert {"officieleStraatnaam", "huisnummer", "postcode", "woonplaats"} <= set(
        persoon["verblijfplaats"]["verblijfadres"]
    )

    met_document = next(p for p in PERSONEN if p.reisdocumenten)
    query = {
        "type": "ZoekMetBurgerservicenummer",
        "burgerservicenummer": met_document.bsn,
        "fields": ["datumEindeGeldigheid", "soort.code"],
    }
    body = post(f"{sim.reisdocumenten_base_url}/reisdocumenten", query).json()
    assert body["type"] == "ZoekMetBurgerservicenummer"
    assert len(body["reisdocumenten"]) == len(met_document.reisdocumenten)
    for document in body["reisdocumenten"]:
        assert set(document) == {"datumEindeGeldigheid", "soort"}
        assert set(document["soort"]) == {"code"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["code"] == code
    assert {"type", "title", "detail", "instance"} <= set(problem)
    return problem


def invalid_params(problem: dict[str, Any]) -> set[tuple[str, str]]:
    return {(p["name"], p["code"]) for p in problem["invalidParams"]}


def test_21_bsns_in_een_request_is_400(sim: HaalCentraalSimServer) -> None:
    response = post(f"{sim.brp_base_url}/personen", personen_query(BSNS[:21], ["burgerservicenummer"]))
    problem = assert_problem(response, 400, "paramsValidation")
    assert invalid_params(problem) == {("burgerservicenummer", "maxItems")}
    assert not any(bsn in response.text for bsn in BSNS)  # a problem never echoes values


def test_fields_ontbreekt_is_400(sim: HaalCentraalSimServer) -> None:
    query = {"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": BSNS[:1]}
    problem = assert_problem(post(f"{sim.brp_base_url}/personen", query), 400, "paramsValidation")
    assert invalid_params(problem) == {("fields", "required")}
    query = {"type": "ZoekMetBurgerservicenummer", "burgerservicenummer": BSNS[0], "fields": []}
    url = f"{sim.reisdocumenten_base_url}/reisdocumenten"
    problem = assert_problem(post(url, query), 400, "paramsValidation")
    assert invalid_params(problem) == {("fields", "minItems")}


def test_ongeldige_queries_zijn_400(sim: HaalCentraalSimServer) -> None:
    url = f"{sim.brp_base_url}/personen"
    fout_pad = personen_query(BSNS[:1], ["verblijfplaats.bestaatNiet", "inOnderzoek"])
    problem = assert_problem(post(url, fout_pad), 400, "paramsValidation")
    assert invalid_params(problem) == {("fields[0]", "fields"), ("fields[1]", "fields")}

    extra = {**personen_query(BSNS[:1], ["burgerservicenummer"]), "geheim": True}
    problem = assert_problem(post(url, extra), 400, "paramsValidation")
    assert invalid_params(problem) == {("geheim", "unknownParam")}

    ander_type = {**personen_query(BSNS[:1], ["burgerservicenummer"]), "type": "ZoekMetPostcodeEnHuisnummer"}
    problem = assert_problem(post(url, ander_type), 400, "paramsValidation")
    assert invalid_params(problem) == {("type", "value")}

    slecht_bsn = personen_query(["12345"], ["burgerservicenummer"])
    problem = assert_problem(post(url, slecht_bsn), 400, "paramsValidation")
    assert invalid_params(problem) == {("burgerservicenummer[0]", "pattern")}

    reis_lijst = {"type": "ZoekMetBurgerservicenummer", "burgerservicenummer": BSNS[:1], "fields": ["soort"]}
    problem = assert_problem(
        post(f"{sim.reisdocumenten_base_url}/reisdocumenten", reis_lijst), 400, "paramsValidation"
    )
    assert invalid_params(problem) == {("burgerservicenummer", "string")}


def spec_schemas(filename: str) -> dict[str, Any]:
    schemas: dict[str, Any] = yaml.safe_load(spec_text(filename))["components"]["schemas"]
    return schemas


def spec_properties(schemas: dict[str, Any], name: str) -> set[str]:
    """Property names of a schema, over its allOf parts (local refs only)."""
    schema = schemas[name]
    parts = [schema, *schema.get("allOf", [])]
    names: set[str] = set()
    for part in parts:
        if "$ref" in part:
            names |= spec_properties(schemas, part["$ref"].rsplit("/", 1)[1])
        names |= set(part.get("properties", {}))
    return names


SPEC_WEIGERT = [
    ("personen", personen_query(BSNS[:1], ["verblijfplaats.bestaatNiet"]), {("fields[0]", "fields")}),
    ("personen", personen_query(BSNS[:21], ["burgerservicenummer"]), {("burgerservicenummer", "maxItems")}),
    (
        "personen",
        {**personen_query(BSNS[:1], ["burgerservicenummer"]), "type": "ZoekMetBurgerservicenummer"},
        {("type", "value")},
    ),
    (
        "personen",
        {"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": BSNS[:1]},
        {("fields", "required")},
    ),
    (
        "reisdocumenten",
        {"type": "ZoekMetBurgerservicenummer", "burgerservicenummer": BSNS[0], "fields": ["bestaatNiet"]},
        {("fields[0]", "fields")},
    ),
    (
        "reisdocumenten",
        {"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": BSNS[0], "fields": ["soort"]},
        {("type", "value")},
    ),
    (
        "reisdocumenten",
        {"type": "ZoekMetBurgerservicenummer", "burgerservicenummer": BSNS[0]},
        {("fields", "required")},
    ),
]


@pytest.mark.parametrize(
    ("api", "query", "verwacht"),
    SPEC_WEIGERT,
    ids=[
        "onbekend-pad",
        "21-bsns",
        "ander-type",
        "geen-fields",
        "reis-onbekend-pad",
        "reis-ander-type",
        "reis-geen-fields",
    ],
)
def test_server_weigert_wat_de_spec_weigert(
    sim: HaalCentraalSimServer, api: str, query: dict[str, Any], verwacht: set[tuple[str, str]]
) -> None:
    base = sim.brp_base_url if api == "personen" else sim.reisdocumenten_base_url
    schemas = spec_schemas(PERSONEN_SPEC if api == "personen" else REISDOCUMENTEN_SPEC)
    response = post(f"{base}/{api}", query)
    problem = assert_problem(response, 400, "paramsValidation")
    assert invalid_params(problem) == verwacht
    # the shape of the spec's BadRequestFoutbericht, and no value from the request
    assert set(problem) == spec_properties(schemas, "BadRequestFoutbericht")
    parameter = "InvalidParam" if api == "personen" else "InvalidParams"
    assert all(set(p) == spec_properties(schemas, parameter) for p in problem["invalidParams"])
    assert not any(bsn in response.text for bsn in BSNS)


@pytest.mark.parametrize("fault", ["500", "503", "429"])
def test_storingen_spreken_met_de_voorbeelden_uit_de_spec(sim: HaalCentraalSimServer, fault: str) -> None:
    configure(sim, fault=fault)
    for base, api, filename in (
        (sim.brp_base_url, "personen", PERSONEN_SPEC),
        (sim.reisdocumenten_base_url, "reisdocumenten", REISDOCUMENTEN_SPEC),
    ):
        document = yaml.safe_load(spec_text(filename))
        responses = document["paths"][f"/{api}"]["post"]["responses"]
        response = responses[fault]
        if "$ref" in response:
            response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        voorbeeld = response["content"]["application/problem+json"]["example"]
        problem = assert_problem(post(f"{base}/{api}", {}), int(fault), voorbeeld["code"])
        assert {k: problem[k] for k in ("type", "title", "detail")} == {
            k: voorbeeld[k] for k in ("type", "title", "detail")
        }
        assert problem["instance"] == f"{base.removeprefix(sim.base_url)}/{api}"


def test_content_negotiation(sim: HaalCentraalSimServer) -> None:
    url = f"{sim.brp_base_url}/personen"
    query = personen_query(BSNS[:1], ["burgerservicenummer"])
    assert_problem(post(url, query, {"Content-Type": "text/plain"}), 415, "unsupported")
    assert_problem(post(url, query, {**HEADERS, "Accept": "text/html"}), 406, "notAcceptable")
    assert post(url, query, {"Content-Type": "application/json"}).status_code == 200
    assert post(url, query, {**HEADERS, "Accept": "*/*"}).status_code == 200


def test_onbekend_pad_is_404(sim: HaalCentraalSimServer) -> None:
    response = post(f"{sim.base_url}/haalcentraal/api/brp/ingeschrevenpersonen", {})
    assert_problem(response, 404, "notFound")


def test_api_key_vereist() -> None:
    with HaalCentraalSimServer(api_key="juiste-sleutel") as server:
        url = f"{server.brp_base_url}/personen"
        query = personen_query(BSNS[:1], ["burgerservicenummer"])
        assert_problem(post(url, query), 401, "authentication")
        with (
            BrpPersonenClient(server.brp_base_url, backoff_s=0.01) as zonder,
            pytest.raises(SourceError) as fout,
        ):
            zonder.woonadres(BSNS[:1])
        assert (fout.value.reden, fout.value.status, fout.value.code) == (
            Reden.BRON_FOUT,
            401,
            "authentication",
        )
        assert server.stats()["requests"]["personen"] == 2  # a 401 is not retried
        with BrpPersonenClient(server.brp_base_url, api_key="juiste-sleutel") as met:
            assert met.woonadres(BSNS[:1]) == {BSNS[0]: Antwoord(PERSONEN[0].verblijf == "woonadres")}


# --------------------------------------------------------------------------- faults


FAULTS = [
    ("500", Reden.BRON_FOUT, 500, "serverError", 2),
    ("503", Reden.BRON_FOUT, 503, "notAvailable", 2),
    ("429", Reden.BRON_FOUT, 429, "tooManyRequests", 2),
    ("timeout", Reden.BRON_TIMEOUT, None, None, 2),
    ("malformed", Reden.BRON_FOUT, 200, None, 1),  # a broken 200 is not retried
    ("wrong_type", Reden.BRON_FOUT, 200, None, 1),
]


@pytest.mark.parametrize(("fault", "reden", "status", "code", "pogingen"), FAULTS, ids=[f[0] for f in FAULTS])
def test_elke_storing_wordt_source_error_en_nooit_nee(
    sim: HaalCentraalSimServer,
    fault: str,
    reden: Reden,
    status: int | None,
    code: str | None,
    pogingen: int,
) -> None:
    configure(sim, fault=fault)
    vandaag = date.today()
    opties: dict[str, Any] = {"timeout": 0.2, "max_attempts": 2, "backoff_s": 0.01}
    with (
        BrpPersonenClient(sim.brp_base_url, **opties) as brp,
        ReisdocumentenClient(sim.reisdocumenten_base_url, **opties) as reis,
    ):
        aanroepen = [
            lambda: brp.woonadres(BSNS[:3]),
            lambda: brp.minderjarige_kinderen(BSNS[:3], vandaag),
            lambda: reis.geldig_id(BSNS[0], vandaag),
        ]
        for aanroep in aanroepen:
            with pytest.raises(SourceError) as fout:
                aanroep()
            assert (fout.value.reden, fout.value.status, fout.value.code) == (reden, status, code)
            assert not any(bsn in str(fout.value) for bsn in BSNS)
        veel = reis.geldig_id_many(BSNS[:3], vandaag, max_concurrency=3)
    assert veel == dict.fromkeys(BSNS[:3], Antwoord.onbekend(reden))
    assert stats(sim)["requests"] == {"personen": 2 * pogingen, "reisdocumenten": 4 * pogingen}


@pytest.mark.parametrize("fault", ["503", "429", "timeout"])
def test_retry_herstelt_na_twee_storingen(sim: HaalCentraalSimServer, fault: str) -> None:
    configure(sim, fault=fault, fault_first_n=2)
    with BrpPersonenClient(sim.brp_base_url, timeout=0.3, max_attempts=3, backoff_s=0.01) as brp:
        assert brp.woonadres(BSNS[:5]) == {p.bsn: Antwoord(p.verblijf == "woonadres") for p in PERSONEN[:5]}
    assert stats(sim)["requests"]["personen"] == 3
    assert stats(sim)["faults"] == {fault: 2}


def test_onbereikbaar(sim: HaalCentraalSimServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dicht = sock.getsockname()[1]  # closed again when the block ends
    with (
        BrpPersonenClient(
            f"http://127.0.0.1:{dicht}/haalcentraal/api/brp", max_attempts=2, backoff_s=0.01
        ) as brp,
        pytest.raises(SourceUnavailable) as fout,
    ):
        brp.woonadres(BSNS[:1])
    assert fout.value.reden is Reden.BRON_ONBEREIKBAAR


def test_latency_boven_client_timeout(sim: HaalCentraalSimServer) -> None:
    configure(sim, latency_ms=500)
    with (
        ReisdocumentenClient(sim.reisdocumenten_base_url, timeout=0.1, max_attempts=1) as reis,
        pytest.raises(SourceTimeout) as fout,
    ):
        reis.geldig_id(BSNS[0], date.today())
    assert fout.value.reden is Reden.BRON_TIMEOUT
    configure(sim, latency_ms=20)
    with ReisdocumentenClient(sim.reisdocumenten_base_url, timeout=2.0) as reis:
        assert reis.geldig_id(BSNS[0], date.today()) == Antwoord(PERSONEN[0].heeft_geldig_id)


def test_fault_rate_is_reproduceerbaar(sim: HaalCentraalSimServer) -> None:
    url = f"{sim.brp_base_url}/personen"
    query = personen_query(BSNS[:1], ["burgerservicenummer"])

    def patroon() -> list[int]:
        configure(sim, fault="500", fault_rate=0.5, fault_seed=7)
        return [post(url, query).status_code for _ in range(16)]

    eerste = patroon()
    assert set(eerste) == {200, 500}
    assert patroon() == eerste


def test_sim_config_weigert_onzin(sim: HaalCentraalSimServer) -> None:
    for onzin in ({"bestaat_niet": 1}, {"fault": "418"}, {"fault_rate": 2}, [1]):
        response = HTTP.post(f"{sim.base_url}/_sim/config", json=onzin)
        assert response.status_code == 400
    assert HTTP.get(f"{sim.base_url}/_sim/config").json()["fault"] is None


def test_server_logt_niets(sim: HaalCentraalSimServer, capfd: pytest.CaptureFixture[str]) -> None:
    post(f"{sim.brp_base_url}/personen", personen_query(BSNS[:20], ["burgerservicenummer"]))
    post(f"{sim.brp_base_url}/personen", personen_query(BSNS[:21], ["burgerservicenummer"]))
    post(f"{sim.base_url}/bestaat/niet", {"bsn": BSNS[0]})
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""


# --------------------------------------------------------------------------- through the adapters


def test_checks_via_live_sources_en_de_verbindingen(
    sim: HaalCentraalSimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The register's bron and bronvraag pick the adapter and the question; connections pick the server."""
    from nazorg.checks import Geval, evalueer
    from nazorg.models import Uitkomst
    from nazorg.register import default_policy
    from nazorg.settings import settings
    from nazorg.sources.live import LiveSources

    monkeypatch.setenv("AIRFLOW_CONN_HAAL_CENTRAAL_BRP", http_connection_json(sim.brp_base_url))
    monkeypatch.setenv(
        "AIRFLOW_CONN_HAAL_CENTRAAL_REISDOCUMENTEN", http_connection_json(sim.reisdocumenten_base_url)
    )
    policy = default_policy()
    besluit = policy.besluit("9901")
    gevallen = [Geval(f"EDM-{i}", p.bsn, None) for i, p in enumerate(PERSONEN[:25])]
    gevallen.append(Geval("EDM-X", ONBEKEND_BSN, None))
    vandaag = date.today()
    with LiveSources(settings()) as sources:
        kinderen = evalueer(policy.register.entry("kinderen"), besluit, gevallen, sources, vandaag)
        id_bewijs = evalueer(policy.register.entry("id_bewijs"), besluit, gevallen, sources, vandaag)
    for i, persoon in enumerate(PERSONEN[:25]):
        assert kinderen[f"EDM-{i}"].uitkomst == (
            Uitkomst.JA if persoon.heeft_minderjarige_kinderen else Uitkomst.NEE
        )
        assert id_bewijs[f"EDM-{i}"].uitkomst == (Uitkomst.JA if persoon.heeft_geldig_id else Uitkomst.NEE)
    assert (kinderen["EDM-X"].uitkomst, kinderen["EDM-X"].reden) == (
        Uitkomst.ONBEKEND,
        Reden.PERSOON_NIET_GEVONDEN,
    )
    # Reisdocumenten answers [] for an unknown BSN; BRP Personen, asked to confirm the nee, does not know it
    assert (id_bewijs["EDM-X"].uitkomst, id_bewijs["EDM-X"].reden) == (
        Uitkomst.ONBEKEND,
        Reden.PERSOON_NIET_GEVONDEN,
    )
    # kinderen: 2 requests of at most 20; id_bewijs: one Reisdocumenten request a BSN, one
    # Personen request for the (at most 20) nee's
    nee = 1 + sum(not p.heeft_geldig_id for p in PERSONEN[:25])
    assert nee <= 20
    assert stats(sim)["requests"] == {"personen": 3, "reisdocumenten": 26}


def test_id_bewijs_van_een_persoon_die_de_brp_niet_kent_is_onbekend(
    sim: HaalCentraalSimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over real HTTP: the unknown BSN is onbekend, the known ones keep their ja and nee,
    and the nee's are confirmed in BRP Personen 20 BSNs a request, not one per person."""
    from nazorg.checks import Geval, evalueer
    from nazorg.models import Uitkomst
    from nazorg.register import default_policy
    from nazorg.settings import settings
    from nazorg.sources.live import LiveSources

    monkeypatch.setenv("AIRFLOW_CONN_HAAL_CENTRAAL_BRP", http_connection_json(sim.brp_base_url))
    monkeypatch.setenv(
        "AIRFLOW_CONN_HAAL_CENTRAAL_REISDOCUMENTEN", http_connection_json(sim.reisdocumenten_base_url)
    )
    policy = default_policy()
    gewoon = [p for p in pop.population() if not p.heeft_brp_signaal]
    zonder = [p for p in gewoon if not p.heeft_geldig_id][:25]  # with the 2 unknown: 2 Personen requests
    met = [p for p in gewoon if p.heeft_geldig_id][:5]
    assert len(zonder) == 25 and any(not p.reisdocumenten for p in zonder)
    bsns = pop.synthetic_bsns(int(pop.population()[-1].bsn) + 1)
    onbekend = [next(bsns), next(bsns)]  # valid BSNs past the population: the BRP does not know them
    assert not set(onbekend) & set(pop.by_bsn())
    gevallen = [Geval(f"EDM-{p.bsn}", p.bsn, None) for p in zonder + met]
    gevallen += [Geval(f"EDM-{bsn}", bsn, None) for bsn in onbekend]
    with LiveSources(settings()) as sources:
        uitkomst = evalueer(
            policy.register.entry("id_bewijs"), policy.besluit("9901"), gevallen, sources, date.today()
        )
    for p in zonder + met:
        assert uitkomst[f"EDM-{p.bsn}"].uitkomst == (Uitkomst.JA if p in met else Uitkomst.NEE)
    for bsn in onbekend:
        assert (uitkomst[f"EDM-{bsn}"].uitkomst, uitkomst[f"EDM-{bsn}"].reden) == (
            Uitkomst.ONBEKEND,
            Reden.PERSOON_NIET_GEVONDEN,
        )
    nee = len(zonder) + len(onbekend)
    assert stats(sim)["requests"] == {"personen": -(-nee // 20), "reisdocumenten": len(gevallen)}


# --------------------------------------------------------------------------- trace context, protocollering

TRACE = "0af7651916cd43dd8448eb211c80319c"
PROTOCOLLERING = {
    "x-doelbinding": "kinderen",
    "x-verwerking": "https://register.nazorg.example/verwerkingsactiviteiten/kinderen/v1",
    "x-origin-oin": "00000001999901000000",
    "x-gebruiker": "nazorg-intake",
}


def _traceparent(verzoek: dict[str, Any]) -> tuple[str, str]:
    from nazorg.sources.trace_context import lees_traceparent

    gelezen = lees_traceparent(verzoek["traceparent"])
    assert gelezen is not None and verzoek["traceparent"].endswith("-01"), "not a sampled version-00 header"
    return gelezen


def test_elke_poging_draagt_een_eigen_span_en_het_spoor_noemt_die_die_antwoordde(
    sim: HaalCentraalSimServer,
) -> None:
    from nazorg.sources.trace_context import Spoor

    configure(sim, fault="503", fault_first_n=2)
    spoor = Spoor(TRACE)
    with BrpPersonenClient(sim.brp_base_url, timeout=1.0, max_attempts=3, backoff_s=0.01) as brp:
        brp.woonadres(BSNS[:5], spoor=spoor, protocollering=PROTOCOLLERING)
    verzoeken = sim.verzoeken()
    assert len(verzoeken) == 3
    spans = [_traceparent(v) for v in verzoeken]
    assert {t for t, _ in spans} == {TRACE}
    assert len({s for _, s in spans}) == 3  # a fresh span per attempt
    for verzoek in verzoeken:
        assert {k: verzoek[k] for k in PROTOCOLLERING} == PROTOCOLLERING
    for bsn in BSNS[:5]:
        operatie = spoor.voor(bsn)
        assert operatie is not None
        assert operatie.request_span_id == spans[-1][1]  # the attempt that answered
        assert operatie.span_id == verzoeken[-1]["server_span_id"]  # from the server's traceresponse
        assert operatie.trace_id == TRACE
        assert operatie.entity == sim.brp_base_url


def test_twintig_bsns_per_request_delen_de_span_van_hun_request(sim: HaalCentraalSimServer) -> None:
    from nazorg.sources.trace_context import Spoor

    spoor = Spoor(TRACE)
    with BrpPersonenClient(sim.brp_base_url, timeout=2.0) as brp:
        brp.woonadres(BSNS[:45], spoor=spoor)
    ontvangen = {_traceparent(v)[1] for v in sim.verzoeken()}
    per_span: dict[str, int] = {}
    for bsn in BSNS[:45]:
        operatie = spoor.voor(bsn)
        assert operatie is not None and operatie.request_span_id in ontvangen
        per_span[operatie.request_span_id] = per_span.get(operatie.request_span_id, 0) + 1
    assert sorted(per_span.values()) == [5, 20, 20]


def test_reisdocumenten_een_span_per_bsn_en_zonder_spoor_toch_een_traceparent(
    sim: HaalCentraalSimServer,
) -> None:
    from nazorg.sources.trace_context import Spoor

    spoor = Spoor(TRACE)
    with ReisdocumentenClient(sim.reisdocumenten_base_url, timeout=2.0) as reis:
        reis.geldig_id_many(BSNS[:4], date.today(), spoor=spoor, protocollering=PROTOCOLLERING)
        eerst = sim.verzoeken()
        assert {_traceparent(v)[0] for v in eerst} == {TRACE}
        assert {spoor.voor(b).request_span_id for b in BSNS[:4]} == {_traceparent(v)[1] for v in eerst}  # type: ignore[union-attr]
        sim.reset_stats()
        reis.geldig_id(BSNS[0], date.today())  # no spoor: a trace of its own, no protocollering invented
    (los,) = sim.verzoeken()
    assert _traceparent(los)[0] != TRACE
    assert all(los[k] is None for k in PROTOCOLLERING)


def test_de_server_antwoordt_traceresponse_alleen_op_een_geldige_traceparent(
    sim: HaalCentraalSimServer,
) -> None:
    body = personen_query(BSNS[:1], list(WOONADRES_FIELDS))
    span = "b7ad6b7169203331"
    goed = post(f"{sim.brp_base_url}/personen", body, {**HEADERS, "traceparent": f"00-{TRACE}-{span}-01"})
    fout = post(f"{sim.brp_base_url}/personen", body, {**HEADERS, "traceparent": f"00-{TRACE}-{span}"})
    assert goed.status_code == fout.status_code == 200
    antwoord = goed.headers["traceresponse"]
    assert antwoord.startswith(f"00-{TRACE}-") and antwoord.endswith("-01")
    assert "traceresponse" not in fout.headers  # W3C: an invalid traceparent is ignored
    eerste, tweede = sim.verzoeken()
    assert eerste["traceparent_geldig"] and eerste["server_span_id"] == antwoord.split("-")[2]
    assert not tweede["traceparent_geldig"] and tweede["server_span_id"] is None

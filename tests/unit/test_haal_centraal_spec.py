"""The simulator's contract is the vendored OpenAPI specs, and the clients stay inside it.

Without HTTP: what the server derives from ``specs/`` (valid ``fields`` paths,
request validation, list keys, base paths), the constants the clients share
with it, the synthetic resources against the spec's schemas, and that the
repository stands alone (the specs are vendored, nothing points outside).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from nazorg.sources.haal_centraal import (
    KINDEREN_FIELDS,
    MAX_BSNS_PER_REQUEST,
    PERSONEN_TYPE,
    REISDOCUMENT_FIELDS,
    REISDOCUMENTEN_TYPE,
    WOONADRES_FIELDS,
)
from nazorg_dev.sim import population as pop
from nazorg_dev.sim.haal_centraal import data
from nazorg_dev.sim.haal_centraal.spec import (
    AUTOMATISCH,
    PERSONEN_SPEC,
    REISDOCUMENTEN_SPEC,
    personen,
    reisdocumenten,
    spec_text,
)
from tests.conftest import REPO

pytestmark = pytest.mark.unit

PEILDATUM = date(2026, 11, 29)
PERSONEN = pop.population()[:200]
BSN = PERSONEN[0].bsn


def personen_query(**changes: Any) -> dict[str, Any]:
    return {"type": PERSONEN_TYPE, "burgerservicenummer": [BSN], "fields": ["burgerservicenummer"], **changes}


def reisdocumenten_query(**changes: Any) -> dict[str, Any]:
    return {"type": REISDOCUMENTEN_TYPE, "burgerservicenummer": BSN, "fields": ["soort"], **changes}


def fouten(problems: list[Any]) -> set[tuple[str, str]]:
    return {(p.name, p.code) for p in problems}


def spec_validator(filename: str, schema: str) -> Draft202012Validator:
    """An independent validator for one schema of a vendored spec (not the server's code)."""
    document = yaml.safe_load(spec_text(filename))
    registry: Registry[Any] = Registry().with_resource("urn:spec", DRAFT202012.create_resource(document))
    return Draft202012Validator({"$ref": f"urn:spec#/components/schemas/{schema}"}, registry=registry)


# --------------------------------------------------------------------------- the clients stay inside the spec


@pytest.mark.parametrize("path", [*WOONADRES_FIELDS, *KINDEREN_FIELDS])
def test_elk_personen_field_van_de_client_bestaat_in_de_spec(path: str) -> None:
    assert path in personen().field_paths
    assert personen().check(personen_query(fields=[path])) == []


@pytest.mark.parametrize("path", REISDOCUMENT_FIELDS)
def test_elk_reisdocumenten_field_van_de_client_bestaat_in_de_spec(path: str) -> None:
    assert path in reisdocumenten().field_paths
    assert reisdocumenten().check(reisdocumenten_query(fields=[path])) == []


def test_gedeelde_constanten_kloppen_met_de_spec() -> None:
    assert (personen().query_type, personen().list_key) == (PERSONEN_TYPE, "personen")
    assert (reisdocumenten().query_type, reisdocumenten().list_key) == (REISDOCUMENTEN_TYPE, "reisdocumenten")
    bsns = [p.bsn for p in PERSONEN]
    assert personen().check(personen_query(burgerservicenummer=bsns[:MAX_BSNS_PER_REQUEST])) == []
    te_veel = personen_query(burgerservicenummer=bsns[: MAX_BSNS_PER_REQUEST + 1])
    assert fouten(personen().check(te_veel)) == {("burgerservicenummer", "maxItems")}


def test_paden_komen_uit_de_servers_van_de_spec() -> None:
    # the connection URLs in the README and docker-compose.yml rely on these
    assert personen().path == "/haalcentraal/api/brp/personen"
    assert reisdocumenten().path == "/haalcentraal/api/reisdocumenten/reisdocumenten"


def test_automatisch_geleverde_velden_zijn_die_van_de_spec() -> None:
    document = yaml.safe_load(spec_text(PERSONEN_SPEC))
    uitleg = document["components"]["schemas"]["PersonenQuery"]["properties"]["fields"]["description"]
    genoemd = re.search(r"automatisch worden geleverd \(([^)]*)\)", uitleg)
    assert genoemd is not None
    # the official features (fields-fout-cases) refuse the indicatie in fields as well
    extra = {"indicatieVastgesteldVerblijftNietOpAdres"}
    assert set(re.split(r", | en ", genoemd.group(1))) | extra == AUTOMATISCH


def test_fields_paden_omvatten_subtypes() -> None:
    paden = personen().field_paths
    # Adres, VerblijfplaatsBuitenland and Locatie (discriminator subtypes) all contribute
    assert {"verblijfplaats.functieAdres", "verblijfplaats.verblijfadres.regel1"} <= paden
    assert "verblijfplaats.verblijfadres.locatiebeschrijving" in paden
    assert {"kinderen.geboorte.datum.jaar", "gezag.derden.naam.volledigeNaam"} <= paden  # allOf, arrays
    assert not any(AUTOMATISCH.intersection(p.split(".")) for p in paden | reisdocumenten().field_paths)
    assert personen().resource.children["verblijfplaats"].polymorphic
    assert not personen().resource.children["kinderen"].polymorphic


# --------------------------------------------------------------------------- requests the spec refuses


ZONDER_TYPE = {"burgerservicenummer": [BSN], "fields": ["burgerservicenummer"]}
ZONDER_FIELDS = {"type": PERSONEN_TYPE, "burgerservicenummer": [BSN]}


@pytest.mark.parametrize(
    ("query", "verwacht"),
    [
        (personen_query(fields=["verblijfplaats.bestaatNiet"]), {("fields[0]", "fields")}),
        (personen_query(fields=["burgerservicenummer.code"]), {("fields[0]", "fields")}),
        (personen_query(fields=["verblijfplaats.inOnderzoek"]), {("fields[0]", "fields")}),
        (personen_query(fields=["naam voornamen"]), {("fields[0]", "pattern")}),
        (personen_query(fields=["burgerservicenummer"] * 131), {("fields", "maxItems")}),
        (personen_query(type=REISDOCUMENTEN_TYPE), {("type", "value")}),
        (ZONDER_TYPE, {("type", "required")}),
        (ZONDER_FIELDS, {("fields", "required")}),
        (personen_query(burgerservicenummer=[]), {("burgerservicenummer", "minItems")}),
        (personen_query(burgerservicenummer=BSN), {("burgerservicenummer", "array")}),
        (personen_query(burgerservicenummer=[int(BSN)]), {("burgerservicenummer[0]", "string")}),
        # JSON Schema patterns are ECMA-262: "$" does not match before a final newline
        (personen_query(burgerservicenummer=[BSN + "\n"]), {("burgerservicenummer[0]", "pattern")}),
        (personen_query(gemeenteVanInschrijving="99"), {("gemeenteVanInschrijving", "pattern")}),
        (personen_query(inclusiefOverledenPersonen=True), {("inclusiefOverledenPersonen", "unknownParam")}),
    ],
)
def test_personen_spec_weigert(query: dict[str, Any], verwacht: set[tuple[str, str]]) -> None:
    assert fouten(personen().check(query)) == verwacht


@pytest.mark.parametrize(
    ("query", "verwacht"),
    [
        (reisdocumenten_query(type=PERSONEN_TYPE), {("type", "value")}),
        (reisdocumenten_query(burgerservicenummer=[BSN]), {("burgerservicenummer", "string")}),
        (reisdocumenten_query(fields=["houder.geheimhoudingPersoonsgegevens"]), {("fields[0]", "fields")}),
        (reisdocumenten_query(fields=["soort"] * 26), {("fields", "maxItems")}),
        (reisdocumenten_query(fields=["naam"]), {("fields[0]", "fields")}),
    ],
)
def test_reisdocumenten_spec_weigert(query: dict[str, Any], verwacht: set[tuple[str, str]]) -> None:
    assert fouten(reisdocumenten().check(query)) == verwacht


def test_fouten_noemen_nooit_een_waarde() -> None:
    query = personen_query(burgerservicenummer=["12345678", BSN, BSN + "x"], fields=[BSN, f"naam.{BSN}"])
    query[BSN] = True  # an unknown key that is a value: named "body", not echoed
    problems = personen().check(query)
    assert fouten(problems) == {
        ("burgerservicenummer[0]", "pattern"),
        ("burgerservicenummer[2]", "pattern"),
        ("fields[0]", "fields"),
        ("fields[1]", "fields"),
        ("body", "unknownParam"),
    }
    tekst = repr(problems)
    assert BSN not in tekst
    assert "12345678" not in tekst


# --------------------------------------------------------------------------- synthetic data follows the spec


def leaf_paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, list):
        return set().union(*(leaf_paths(item, prefix) for item in value)) if value else {prefix}
    if isinstance(value, dict):
        return set().union(*(leaf_paths(v, f"{prefix}{k}.") for k, v in value.items()))
    return {prefix.rstrip(".")}


def gevraagde_paden(resource: Any) -> set[str]:
    """The leaf paths a client could request: the automatically delivered ones are not among them."""
    return {p for p in leaf_paths(resource) if not AUTOMATISCH.intersection(p.split("."))}


def test_synthetische_personen_volgen_de_spec() -> None:
    validator = spec_validator(PERSONEN_SPEC, "Persoon")
    resources = [data.persoon_json(p, PEILDATUM) for p in PERSONEN]
    assert {r["verblijfplaats"]["type"] for r in resources} == {
        "Adres",
        "VerblijfplaatsBuitenland",
        "VerblijfplaatsOnbekend",
    }
    for resource in resources:
        assert list(validator.iter_errors(resource)) == []
        assert gevraagde_paden(resource) <= personen().field_paths


def test_synthetische_reisdocumenten_volgen_de_spec() -> None:
    validator = spec_validator(REISDOCUMENTEN_SPEC, "Reisdocument")
    resources = [
        data.reisdocument_json(document, p.bsn, PEILDATUM) for p in PERSONEN for document in p.reisdocumenten
    ]
    assert any("inhoudingOfVermissing" in r for r in resources)
    for resource in resources:
        assert list(validator.iter_errors(resource)) == []
        assert gevraagde_paden(resource) <= reisdocumenten().field_paths


# --------------------------------------------------------------------------- the repository stands alone


def test_specs_zijn_ongewijzigd_zoals_de_readme_zegt() -> None:
    readme = (REPO / "specs" / "README.md").read_text(encoding="utf-8")
    genoemd = dict(
        (naam, digest) for digest, naam in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.MULTILINE)
    )
    assert set(genoemd) == {PERSONEN_SPEC, REISDOCUMENTEN_SPEC}
    for naam, digest in genoemd.items():
        assert hashlib.sha256((REPO / "specs" / naam).read_bytes()).hexdigest() == digest
        # the copy the installed package reads is the same file
        assert spec_text(naam) == (REPO / "specs" / naam).read_text(encoding="utf-8")
    assert {"LICENCE-brp-personen.md", "LICENCE-reisdocumenten.md"} <= {
        p.name for p in (REPO / "specs").iterdir()
    }


_SKIP_DIRS = {".git", ".venv", "var", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "build"}


def test_niets_verwijst_buiten_de_repository_naar_shared() -> None:
    # built from parts, so this file does not find itself
    needles = ("../" + "shared", "/work/" + "shared")
    hits: list[str] = []
    for path in REPO.rglob("*"):
        if _SKIP_DIRS.intersection(path.relative_to(REPO).parts) or not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        hits.extend(f"{path.relative_to(REPO)}: {n}" for n in needles if n in text)
    assert hits == []

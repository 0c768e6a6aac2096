"""The published basisdocument's JSON Schema (draft 2020-12): closed, so it guards over-collection too.

Why a schema next to the Great Expectations guard: the guard validates the
frame of outcomes (:func:`nazorg.basisdocument.rows`), one row per check; the
document's header (gemeente, inrichting, dates, besluit, register version) is
not in that frame. The schema covers the whole document: every object has
``additionalProperties: false``, every code is an enum of :mod:`nazorg.models`,
and the sender's free text (``inrichting``) may not hold a BSN-like digit run.

The file ``basisdocument.schema.json`` ships inside this package (package data,
read with :mod:`importlib.resources`; never a path outside the package). What
varies per project is narrowed at validation time (:func:`schema_voor`):
``check_id`` to the register's ids, ``dossierverantwoordelijke`` to the
besluiten's team names, ``gemeente_naam`` to the besluiten's gemeente names.

A failure names the JSON path (array indices as ``[]``) and the schema keyword,
never a value: ``jsonschema``'s messages quote the instance, so they are not used.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

#: the reason code a document failing the schema is quarantined with (like ``overcollectie``)
REDEN_CODE = "schema_ongeldig"
SCHEMA_BESTAND = "basisdocument.schema.json"


@dataclass(frozen=True)
class SchemaFout:
    """One schema failure: where (a path of schema property names) and which keyword; no value."""

    veld: str
    keyword: str


def laad_schema() -> dict[str, Any]:
    """The packaged schema as a fresh dict (callers may change their copy)."""
    tekst = resources.files(__package__).joinpath(SCHEMA_BESTAND).read_text(encoding="utf-8")
    data = json.loads(tekst)
    if not isinstance(data, dict):
        raise ValueError(f"{SCHEMA_BESTAND}: geen JSON-object")
    return data


@cache
def _basis() -> dict[str, Any]:
    return laad_schema()


def schema_voor(
    check_ids: Iterable[str], team_namen: Iterable[str], gemeente_namen: Iterable[str]
) -> dict[str, Any]:
    """The packaged schema narrowed to one project's register and besluiten (module docstring)."""
    schema = copy.deepcopy(_basis())
    check = schema["$defs"]["check"]["properties"]
    check["check_id"]["enum"] = sorted(set(check_ids))
    check["dossierverantwoordelijke"]["enum"] = [*sorted(set(team_namen)), None]
    schema["properties"]["gemeente_naam"]["enum"] = sorted(set(gemeente_namen))
    return schema


@cache
def _validator(check_ids: tuple[str, ...], teams: tuple[str, ...], gemeenten: tuple[str, ...]) -> Any:
    from jsonschema import Draft202012Validator

    schema = schema_voor(check_ids, teams, gemeenten)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _pad(error: Any) -> str:
    """The error's place as property names; indices become ``[]`` (a path never carries a value).

    An error's ``absolute_path`` only descends through properties the schema
    names (an unknown key is reported at its parent object, keyword
    ``additionalProperties``), so every part is one of our own names.
    """
    delen: list[str] = []
    for deel in error.absolute_path:
        if isinstance(deel, int):
            delen.append("[]")
        else:
            delen.append(("." if delen else "") + str(deel))
    return "".join(delen) or "$"


def valideer(
    document: Any,
    check_ids: Iterable[str],
    team_namen: Iterable[str],
    gemeente_namen: Iterable[str],
) -> list[SchemaFout]:
    """Every schema failure of ``document``, deduplicated, in a stable order; empty when valid."""
    validator = _validator(
        tuple(sorted(set(check_ids))), tuple(sorted(set(team_namen))), tuple(sorted(set(gemeente_namen)))
    )
    fouten = {SchemaFout(_pad(e), str(e.validator)) for e in validator.iter_errors(document)}
    return sorted(fouten, key=lambda f: (f.veld, f.keyword))


def valideer_voor_policy(document: Any, policy: Any) -> list[SchemaFout]:
    """:func:`valideer` against a :class:`nazorg.register.Policy`'s register and besluiten."""
    from nazorg.register import team_namen

    besluiten: Mapping[str, Any] = policy.besluiten
    return valideer(
        document,
        policy.register.ids,
        team_namen(besluiten),
        [b.gemeente_naam for b in besluiten.values()],
    )

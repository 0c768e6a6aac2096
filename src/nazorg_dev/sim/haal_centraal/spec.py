"""The vendored OpenAPI specifications, read once and used as the contract.

Why: the simulator must refuse what the real APIs refuse and deliver only what
``fields`` asks for; a hand copy of the schemas drifts from the real thing. So
the request validation, the allowed body properties, the valid ``fields``
paths, the list key of the answer and the problem texts all come from the
unmodified YAML files in ``specs/`` (shipped as package data).

OpenAPI's ``discriminator`` is not JSON Schema, so it is followed here: the
query's ``type`` picks the request subtype that is validated, and the
response's subtypes are merged into one tree of ``fields`` paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator, ValidationError, validators

from nazorg.sources.haal_centraal import PERSONEN_TYPE, REISDOCUMENTEN_TYPE
from nazorg_dev.sim.haal_centraal.fields import AUTOMATISCH as AUTOMATISCH_VELDEN
from nazorg_dev.sim.haal_centraal.fields import Node, field_paths
from nazorg_dev.sim.haal_centraal.problems import (
    OWN_PROBLEMS,
    InvalidParam,
    Problem,
    Response,
    problem,
)

PERSONEN_SPEC: Final = "haal-centraal-brp-personen-v2.openapi.yaml"
REISDOCUMENTEN_SPEC: Final = "haal-centraal-reisdocumenten-v2.openapi.yaml"
# Named in the BRP spec's description of ``fields`` (plus indicatieVastgesteldVerblijftNietOpAdres,
# which the official features deliver with the verblijfplaats and refuse in ``fields`` as well):
# delivered automatically when relevant, and a request that asks for them is refused.
# Reisdocumenten has the same rule. When each comes along is in .fields.
AUTOMATISCH: Final = AUTOMATISCH_VELDEN
_MAX_DEPTH: Final = 20  # the specs are not recursive; deeper means a cycle we did not catch
_PARAM_NAME_RE: Final = re.compile(r"[a-zA-Z_.]{1,30}")  # echo an unknown key only if it is a word
_END_ANCHOR_RE: Final = re.compile(r"(?<!\\)\$")

_TYPE_REASONS: Final = {
    "array": "Parameter is geen array.",
    "string": "Waarde is geen string.",
    "integer": "Waarde is geen geldig getal.",
    "boolean": "Waarde is geen boolean.",
    "object": "Waarde is geen object.",
}
_REASONS: Final = {
    "minItems": "Array bevat minder dan {} items.",
    "maxItems": "Array bevat meer dan {} items.",
    "pattern": "Waarde voldoet niet aan patroon {}.",
    "minimum": "Waarde is lager dan minimum {}.",
    "maximum": "Waarde is hoger dan maximum {}.",
    "minLength": "Waarde is korter dan minimale lengte {}.",
    "maxLength": "Waarde is langer dan maximale lengte {}.",
    "enum": "Waarde heeft geen toegestane waarde.",
}


class SpecError(RuntimeError):
    """A vendored specification does not have the shape this simulator relies on."""


def spec_text(filename: str) -> str:
    """One vendored file, read from the installed package (works for ``pip install .``)."""
    return resources.files(__package__).joinpath("specs", filename).read_text(encoding="utf-8")


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    """JSON Schema patterns are ECMA-262: ``$`` is the end, not "before a final newline"."""
    return re.compile(_END_ANCHOR_RE.sub(r"\\Z", pattern))


def _pattern(validator: Any, pattern: str, instance: object, schema: object) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not _regex(pattern).search(instance):
        yield ValidationError("does not match the pattern")


_Validator: Any = validators.extend(Draft202012Validator, {"pattern": _pattern})


@dataclass(frozen=True, slots=True)
class Operation:
    """One POST operation of a spec, for the one query ``type`` the simulator answers."""

    name: str  # "personen": the key of the simulator's request counters
    base_path: str  # the path of the spec's server URL, e.g. /haalcentraal/api/brp
    path: str  # base_path + the operation's path, e.g. /haalcentraal/api/brp/personen
    query_type: str
    list_key: str  # the array of resources in the answer
    resource: Node
    field_paths: frozenset[str]
    params: frozenset[str]  # every body property the query type declares
    problems: Mapping[int, Problem]
    validator: Any

    def check(self, body: Mapping[str, object]) -> list[InvalidParam]:
        """Everything wrong with a query body, by parameter name; empty if it is valid."""
        soort = body.get("type")
        if soort is None:
            return [_required("type")]
        if soort != self.query_type:
            return [InvalidParam("type", "value", "Waarde wordt niet ondersteund.")]
        found = [_unknown(key) for key in body if key not in self.params]
        for error in self.validator.iter_errors(body):
            found.extend(_invalid_params(error))
        flagged = {p.name for p in found}
        fields = body.get("fields")
        for index, path in enumerate(fields if isinstance(fields, list) else []):
            name = f"fields[{index}]"
            if name in flagged or not isinstance(path, str):
                continue
            if AUTOMATISCH.intersection(path.split(".")):
                found.append(
                    InvalidParam(name, "fields", "Automatisch geleverd veld mag niet worden gevraagd.")
                )
            elif path not in self.field_paths:
                found.append(InvalidParam(name, "fields", "Parameter bevat een niet bestaande veldnaam."))
        return list(dict.fromkeys(found))

    def problem(
        self,
        status: int,
        *,
        invalid: Sequence[InvalidParam] = (),
        headers: tuple[tuple[str, str], ...] = (),
    ) -> Response:
        return problem(status, self.path, problems=self.problems, invalid=invalid, headers=headers)


def _required(name: str) -> InvalidParam:
    return InvalidParam(name, "required", "Parameter is verplicht.")


def _unknown(key: str) -> InvalidParam:
    name = key if _PARAM_NAME_RE.fullmatch(key) else "body"
    return InvalidParam(name, "unknownParam", "Parameter is niet verwacht.")


def _param_name(path: Iterable[object]) -> str:
    """``burgerservicenummer[0]``: where in the body, built from schema names and indices."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _invalid_params(error: Any) -> list[InvalidParam]:
    """Map a jsonschema error to invalidParams, from the schema only (never the value)."""
    name = _param_name(error.absolute_path)
    keyword, expected = error.validator, error.validator_value
    if keyword == "required":
        instance = error.instance if isinstance(error.instance, Mapping) else {}
        return [_required(f"{name}.{p}" if name else p) for p in expected if p not in instance]
    if keyword == "type":
        code = expected if isinstance(expected, str) else "type"
        return [InvalidParam(name or "body", code, _TYPE_REASONS.get(code, "Waarde heeft een ander type."))]
    reason = _REASONS.get(keyword, "Waarde is ongeldig.").format(expected)
    return [InvalidParam(name or "body", str(keyword), reason)]


class _Document:
    """One spec file: its contents and local ``$ref`` resolution."""

    def __init__(self, filename: str) -> None:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        self.contents: dict[str, Any] = yaml.load(spec_text(filename), Loader=loader)  # noqa: S506

    def pointer(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise SpecError(f"only local $refs are supported, not {ref}")
        node: Any = self.contents
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def inline(self, schema: Any, seen: frozenset[str] = frozenset()) -> Any:
        """``schema`` with every local ``$ref`` replaced by its target, once, ahead of time.

        Why: a validator that follows ``$ref`` through the registry on every
        request spent most of its time there (about 110 of 130 microseconds per
        Reisdocumenten query). The specs' request schemas are not recursive, so
        they can be inlined; a cycle would be a :class:`SpecError`. A ``$ref``
        with sibling keywords keeps them, next to its target in an ``allOf``
        (2020-12 applies both), so the errors are the same leaf errors.
        """
        if isinstance(schema, list):
            return [self.inline(item, seen) for item in schema]
        if not isinstance(schema, Mapping):
            return schema
        ref = schema.get("$ref")
        rest = {key: self.inline(value, seen) for key, value in schema.items() if key != "$ref"}
        if ref is None:
            return rest
        if ref in seen or len(seen) > _MAX_DEPTH:
            raise SpecError(f"recursive $ref {ref} cannot be inlined")
        target = self.inline(self.pointer(ref), seen | {ref})
        return {**rest, "allOf": [*rest.get("allOf", ()), target]} if rest else target

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            schema = self.pointer(schema["$ref"])
        return schema

    def parts(
        self, schema: Mapping[str, Any], *, subtypes: bool, seen: frozenset[str] = frozenset()
    ) -> Iterator[Mapping[str, Any]]:
        """A schema and what it is composed of: allOf/oneOf/anyOf, array items, and
        (with ``subtypes``) the schemas its discriminator maps to; each ref once per branch."""
        ref = schema.get("$ref")
        if ref is not None:
            if ref not in seen:
                yield from self.parts(self.pointer(ref), subtypes=subtypes, seen=seen | {ref})
            return
        yield schema
        composed = [*schema.get("allOf", ()), *schema.get("oneOf", ()), *schema.get("anyOf", ())]
        if "items" in schema:
            composed.append(schema["items"])
        if subtypes:
            mapping = schema.get("discriminator", {}).get("mapping", {})
            composed.extend({"$ref": target} for target in mapping.values())
        for part in composed:
            yield from self.parts(part, subtypes=subtypes, seen=seen)

    def properties(self, schema: Mapping[str, Any], *, subtypes: bool) -> dict[str, list[Any]]:
        merged: dict[str, list[Any]] = {}
        for part in self.parts(schema, subtypes=subtypes):
            for name, sub in part.get("properties", {}).items():
                merged.setdefault(name, []).append(sub)
        return merged

    def node(self, schemas: list[Any], depth: int = 0) -> Node:
        """The fields tree of the union of ``schemas`` and all their subtypes."""
        if depth > _MAX_DEPTH:
            raise SpecError("response schema nests too deep")
        children: dict[str, list[Any]] = {}
        polymorphic = False
        for schema in schemas:
            polymorphic |= any("discriminator" in p for p in self.parts(schema, subtypes=True))
            for name, subs in self.properties(schema, subtypes=True).items():
                children.setdefault(name, []).extend(subs)
        return Node({name: self.node(subs, depth + 1) for name, subs in children.items()}, polymorphic)

    def operation(self, name: str, query_type: str) -> Operation:
        ((path, item),) = self.contents["paths"].items()
        post = item["post"]
        query = self.resolve(_only(post["requestBody"]["content"])["schema"])
        request_ref = query["discriminator"]["mapping"][query_type]
        answer = self.resolve(_only(post["responses"]["200"]["content"])["schema"])
        answer_ref = answer["discriminator"]["mapping"][query_type]
        arrays = {
            key: subs[-1]
            for key, subs in self.properties({"$ref": answer_ref}, subtypes=False).items()
            if self.resolve(subs[-1]).get("type") == "array"
        }
        ((list_key, array),) = arrays.items()
        resource = self.node([self.resolve(array)["items"]])
        base_path = urlsplit(self.contents["servers"][0]["url"]).path.rstrip("/")
        return Operation(
            name=name,
            base_path=base_path,
            path=base_path + path,
            query_type=query_type,
            list_key=list_key,
            resource=resource,
            field_paths=frozenset(field_paths(resource, AUTOMATISCH)),
            params=frozenset(self.properties({"$ref": request_ref}, subtypes=False)),
            problems={**self.problem_examples(post["responses"]), 400: OWN_PROBLEMS[400]},
            validator=_Validator(self.inline({"$ref": request_ref})),
        )

    def problem_examples(self, responses: Mapping[Any, Any]) -> dict[int, Problem]:
        """status -> the type, title, detail and code of the spec's example problem."""
        found: dict[int, Problem] = {}
        for status, response in responses.items():
            content = self.resolve(response).get("content", {}).get("application/problem+json", {})
            example = content.get("example")
            if str(status).isdigit() and example:
                found[int(status)] = Problem(
                    example["type"], example["title"], example["detail"], example["code"]
                )
        return found


def _only(content: Mapping[str, Any]) -> Any:
    """The one media type of a request or response body."""
    ((_, media),) = content.items()
    return media


@cache
def personen() -> Operation:
    """BRP Personen bevragen, POST /personen with type RaadpleegMetBurgerservicenummer."""
    return _Document(PERSONEN_SPEC).operation("personen", PERSONEN_TYPE)


@cache
def reisdocumenten() -> Operation:
    """Reisdocumenten bevragen, POST /reisdocumenten with type ZoekMetBurgerservicenummer."""
    return _Document(REISDOCUMENTEN_SPEC).operation("reisdocumenten", REISDOCUMENTEN_TYPE)

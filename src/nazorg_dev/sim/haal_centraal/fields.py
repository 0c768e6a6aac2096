"""The ``fields`` parameter: which paths exist, and cutting a resource down to them.

Why: ``fields`` is the API's data-minimisation lever, so the simulator must
deliver exactly the requested paths and nothing else, or a client that asks
too much (or too little) would pass its tests. The tree of paths is built from
the vendored specification (see :mod:`.spec`); this module only walks it.

Some fields may not be requested because the API delivers them by itself, and
a client must cope with them (they say the answer cannot be trusted). The rules
follow the official Haal Centraal features:

- :data:`ALTIJD` (``opschortingBijhouding``, ``geheimhoudingPersoonsgegevens``,
  ``rni``, ``verificatie``): whenever present, also inside an object nothing was
  requested from (a reisdocument's ``houder.opschortingBijhouding``);
- :data:`MET_OBJECT` (``indicatieVastgesteldVerblijftNietOpAdres``): with any
  requested field of its object;
- ``inOnderzoek``: the markers of the delivered fields that are in onderzoek,
  with the ``datumIngangOnderzoek*`` dates, when at least one such field is delivered.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# A selection maps a field name to a deeper selection, or to None for "the whole value".
Selection = dict[str, "Selection | None"]

ALTIJD = frozenset({"opschortingBijhouding", "geheimhoudingPersoonsgegevens", "rni", "verificatie"})
MET_OBJECT = frozenset({"indicatieVastgesteldVerblijftNietOpAdres"})
IN_ONDERZOEK = "inOnderzoek"
#: may not be requested in ``fields`` (a 400), because the API delivers them itself
AUTOMATISCH = ALTIJD | MET_OBJECT | {IN_ONDERZOEK}


@dataclass(frozen=True, slots=True)
class Node:
    """One object of a response schema: its properties, merged over all subtypes.

    Arrays are transparent (``kinderen.naam`` addresses the naam of every kind).
    A polymorphic node (one with a ``discriminator``) always returns its ``type``
    when any of its fields is requested, so the client can tell the subtypes apart.
    """

    children: Mapping[str, Node] = field(default_factory=dict)
    polymorphic: bool = False


def field_paths(node: Node, excluded: frozenset[str], prefix: str = "") -> Iterator[str]:
    """Every dotted path below ``node`` that may be requested; ``excluded`` names are skipped."""
    for name, child in node.children.items():
        if name in excluded:
            continue
        path = prefix + name
        yield path
        yield from field_paths(child, excluded, path + ".")


def build_selection(paths: Sequence[str]) -> Selection:
    """Merge valid dotted paths into one tree; a shorter path wins over a longer one."""
    selection: Selection = {}
    for path in paths:
        *parents, last = path.split(".")
        node: Selection | None = selection
        for segment in parents:
            assert node is not None
            node = node.setdefault(segment, {})
            if node is None:  # a parent was already requested as a whole
                break
        else:
            assert node is not None
            node[last] = None
    return selection


def project(value: Any, node: Node, selection: Selection | None) -> Any:
    """Apply ``fields``: keep only the selected paths of a resource, plus what comes automatically.

    Empty objects are left out (data that is not there is not returned), but an
    item of a list is kept even when empty, so a kind without a geboortedatum
    does not silently disappear from ``kinderen``. An empty ``selection`` asks
    nothing of an object: only its :data:`ALTIJD` fields come back, if any.
    """
    if selection is None:
        return value
    if isinstance(value, list):
        return [project(item, node, selection) for item in value]
    if not isinstance(value, dict):
        return value
    result: dict[str, Any] = {}
    for key, sub in selection.items():
        if key not in value:
            continue
        projected = project(value[key], node.children[key], sub)
        if projected != {} and projected != []:
            result[key] = projected
    for key, item in value.items():
        if key in selection or key in MET_OBJECT or key == IN_ONDERZOEK:
            continue
        if key in ALTIJD:
            result[key] = item
        elif isinstance(item, dict) and key in node.children:  # e.g. houder.opschortingBijhouding
            automatisch = project(item, node.children[key], {})
            if automatisch:
                result[key] = automatisch
    if not (selection or result):
        return result
    if node.polymorphic and "type" in value:
        result = {"type": value["type"], **result}
    if selection:
        result.update({key: value[key] for key in MET_OBJECT if key in value})
    markers = value.get(IN_ONDERZOEK)
    if isinstance(markers, dict):
        gemarkeerd = {key: True for key in result if markers.get(key) is True}
        if gemarkeerd:
            datums = {k: v for k, v in markers.items() if k.startswith("datumIngangOnderzoek")}
            result[IN_ONDERZOEK] = {**gemarkeerd, **datums}
    return result

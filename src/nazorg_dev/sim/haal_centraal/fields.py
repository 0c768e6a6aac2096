"""The ``fields`` parameter: which paths exist, and cutting a resource down to them.

Why: ``fields`` is the API's data-minimisation lever, so the simulator must
deliver exactly the requested paths and nothing else, or a client that asks
too much (or too little) would pass its tests. The tree of paths is built from
the vendored specification (see :mod:`.spec`); this module only walks it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# A selection maps a field name to a deeper selection, or to None for "the whole value".
Selection = dict[str, "Selection | None"]


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
    """Apply ``fields``: keep only the selected paths of a resource.

    Empty objects are left out (data that is not there is not returned), but an
    item of a list is kept even when empty, so a kind without a geboortedatum
    does not silently disappear from ``kinderen``.
    """
    if selection is None:
        return value
    if isinstance(value, list):
        return [project(item, node, selection) for item in value]
    if not isinstance(value, dict):
        return value
    result: dict[str, Any] = {}
    if node.polymorphic and "type" in value:
        result["type"] = value["type"]
    for key, sub in selection.items():
        if key not in value:
            continue
        projected = project(value[key], node.children[key], sub)
        if projected != {} and projected != []:
            result[key] = projected
    return result

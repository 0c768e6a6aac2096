"""The guard's Great Expectations suite, derived from what the project already defines.

Why derived: the suite repeats the register's check ids, the value sets of
:class:`~nazorg.models.Uitkomst`, :class:`~nazorg.models.Aandachtsgebied` and
:class:`~nazorg.models.Reden`, the melding-id pattern and BSN-like digit run of
:mod:`nazorg.intake`, the contact format of :mod:`nazorg.register` and the team
names of every besluit (``teams:``). Copied
by hand, a new check meant a hand edit of the JSON (and a forgotten edit meant
either a blocked document or an unknown check slipping through). Generated, a
new check is a register entry plus ``nazorg register suite --write``, and
``nazorg register check`` (CI) refuses a committed suite that differs from what
this module produces.

The contact's value set is the union of all gemeenten's team names: the suite
is one per project and the frame it validates has no gemeente column, so the
guard cannot tell Ruimhaven's teams from Strikdorp's. The per-gemeente rule (a
source may only name a team of *its* gemeente's besluit) is enforced where the
besluit is known, in :mod:`nazorg.checks`; the guard is the second line that
stops any text that is no team at all. The contact pattern and lengths stay as
a third, cheap line.

The generated JSON stays committed in ``expectations/`` as the reviewed GX
artefact: the guard validates against the file, not against this module.

Why literal values and not GX suite parameters (``{"$PARAMETER": "name"}``):

* In GX 1.x a ``$PARAMETER`` gets its value only from the caller at validation
  time (``Batch.validate(..., expectation_parameters=...)``); values stored in
  the suite's ``suite_parameters`` are not used by ``Batch.validate`` (GX 1.24
  raises ``No value found for $PARAMETER``). The guard would then have to load
  and pass the register on every validation, and the committed JSON would say
  ``check_id in $PARAMETER check_ids`` instead of naming the checks.
* The suite is what a privacy officer reviews: literal values make a diff say
  exactly what is newly allowed in a published document. Parameters work with
  ``result_format="BOOLEAN_ONLY"``, but would move that decision out of the
  reviewed file into run-time code.
* What varies per deployment is the project directory (register, sql,
  expectations); each project generates its own literal suite from its own
  register, so nothing is lost.

The output is deterministic so that it diffs cleanly: value sets are sorted
(reordering the register or an enum does not change the suite), the column set
keeps the document's column order, keys keep GX's own order (name, id,
expectations, meta, notes; type, kwargs, meta, notes), and the text is
``json.dumps(indent=2, ensure_ascii=False)`` plus a final newline. Nothing here
imports Great Expectations or reads the environment.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from nazorg.basisdocument import CHECK_KEYS
from nazorg.intake import DIGIT_RUN, MELDING_ID
from nazorg.models import Aandachtsgebied, ContactHerkomst, Reden, Uitkomst
from nazorg.register import (
    CONTACT,
    CONTACT_MAX_LENGTH,
    CONTACT_MIN_LENGTH,
    Besluit,
    Register,
    RegisterError,
    team_namen,
)

SUITE_NAME = "basisdocument"
#: the GX release the suite is written for (pinned in requirements.txt); a constant, not the
#: installed version, so the output does not depend on the machine that generates it
GX_VERSION = "1.24.1"

#: one row per check, exactly the keys :func:`nazorg.basisdocument.rows` produces
BASISDOCUMENT_COLUMNS: tuple[str, ...] = ("melding_id", "aandachtsgebied", *CHECK_KEYS)
#: the columns a check may leave empty (CheckResult: no contact, no reason for ja/nee)
NULLABLE_COLUMNS = frozenset({"dossierverantwoordelijke", "contact_herkomst", "reden"})

_TELWOORDEN = {4: "vier", 5: "vijf", 6: "zes", 7: "zeven", 8: "acht", 9: "negen", 10: "tien"}
_DIGIT_RUN_NOTE = (
    "Geen BSN-achtige reeks van 8 of meer cijfers, ook niet met spaties, punten of streepjes ertussen."
)
_BESCHRIJVING = (
    "Bewaking van het samengestelde DPAN-basisdocument: een rij per check per melding, alleen "
    "ja/nee-uitkomsten, contactnaam, reden. Alles daarbuiten is oververzameling en wordt tegengehouden."
)
_GEGENEREERD = (
    "Gegenereerd met `nazorg register suite --write` uit register/verwerkingsregister.yaml, "
    "de teams in register/besluiten/, nazorg.models, nazorg.intake en nazorg.register; "
    "niet met de hand bewerken."
)


def _expectation(kind: str, kwargs: dict[str, Any], notes: str | None = None) -> dict[str, Any]:
    expectation: dict[str, Any] = {"type": kind, "kwargs": kwargs, "meta": {}}
    if notes is not None:
        expectation["notes"] = notes
    return expectation


def _values(enum: type[StrEnum]) -> list[str]:
    return sorted(member.value for member in enum)


def _in_set(column: str, values: Iterable[str], notes: str) -> dict[str, Any]:
    return _expectation(
        "expect_column_values_to_be_in_set", {"column": column, "value_set": sorted(values)}, notes
    )


def _not_null(column: str) -> dict[str, Any]:
    return _expectation("expect_column_values_to_not_be_null", {"column": column})


def _check_ids(register: Register) -> list[str]:
    ids = register.ids
    if len(set(ids)) != len(ids):
        raise RegisterError("register: dubbele check-id; de suite kan niet worden afgeleid")
    for check_id in ids:
        if DIGIT_RUN.search(check_id):
            # the guard would block every document that carries this check
            raise RegisterError(f"register: check-id {check_id} bevat een BSN-achtige cijferreeks")
    return sorted(ids)


def _teams(besluiten: Mapping[str, Besluit]) -> list[str]:
    namen = team_namen(besluiten)
    if not namen:  # an empty set would block every contact; never derive a suite from nothing
        raise RegisterError("besluiten: geen teams; de suite kan niet worden afgeleid")
    return namen


def _value_rules(register: Register, besluiten: Mapping[str, Besluit]) -> dict[str, list[dict[str, Any]]]:
    """Per column, what its values may be (after the not-null rule for required columns)."""
    contact_note = (
        "Alleen een team- of functienaam (nazorg.register.CONTACT): geen cijfers, "
        f"max {CONTACT_MAX_LENGTH} tekens. Null is toegestaan."
    )
    return {
        "melding_id": [
            _expectation(
                "expect_column_values_to_match_regex",
                {"column": "melding_id", "regex": MELDING_ID.pattern},
                "Een opaak kenmerk, geen BSN of vrije tekst.",
            )
        ],
        "aandachtsgebied": [
            _in_set("aandachtsgebied", _values(Aandachtsgebied), "Gelijk aan nazorg.models.Aandachtsgebied.")
        ],
        "check_id": [
            _in_set(
                "check_id", _check_ids(register), "Gelijk aan de ids in register/verwerkingsregister.yaml."
            )
        ],
        "uitkomst": [_in_set("uitkomst", _values(Uitkomst), "Gelijk aan nazorg.models.Uitkomst.")],
        "dossierverantwoordelijke": [
            _in_set(
                "dossierverantwoordelijke",
                _teams(besluiten),
                "Null of een teamnaam uit een besluit (teams:); een bron kan geen andere tekst publiceren. "
                "Per project: dat het team van de eigen gemeente is, controleert nazorg.checks.",
            ),
            _expectation(
                "expect_column_values_to_match_regex",
                {"column": "dossierverantwoordelijke", "regex": CONTACT.pattern},
                contact_note,
            ),
            _expectation(
                "expect_column_value_lengths_to_be_between",
                {
                    "column": "dossierverantwoordelijke",
                    "min_value": CONTACT_MIN_LENGTH,
                    "max_value": CONTACT_MAX_LENGTH,
                },
            ),
        ],
        "contact_herkomst": [
            _in_set(
                "contact_herkomst",
                _values(ContactHerkomst),
                "Null (geen contact, of gepubliceerd voordat de herkomst werd vastgelegd) of gelijk aan "
                "nazorg.models.ContactHerkomst.",
            )
        ],
        "reden": [
            _in_set(
                "reden",
                _values(Reden),
                "Null of gelijk aan nazorg.models.Reden (GX slaat nulls over bij in_set).",
            )
        ],
    }


def basisdocument_suite(register: Register, besluiten: Mapping[str, Besluit]) -> dict[str, Any]:
    """The whole ``basisdocument`` suite as a plain dict, in the order the guard reports it.

    Table shape first, then per column (in document order) not-null where
    required and what its values may be, then the digit-run ban on every
    column, then one row per check per melding.
    """
    columns = list(BASISDOCUMENT_COLUMNS)
    rules = _value_rules(register, besluiten)
    unruled = [c for c in columns if c not in rules]
    if unruled:  # a column without a value rule would let free text through
        raise RegisterError(f"suite: geen waarderegel voor kolom(men) {', '.join(unruled)}")
    telwoord = _TELWOORDEN.get(len(columns), str(len(columns)))
    expectations = [
        _expectation(
            "expect_table_columns_to_match_set",
            {"column_set": columns, "exact_match": True},
            f"Exact de {telwoord} kolommen; een extra kolom (bedrag, diagnose, ...) is oververzameling.",
        ),
        _expectation(
            "expect_table_column_count_to_equal",
            {"value": len(columns)},
            f"{telwoord.capitalize()} kolommen, ook geen dubbele kolomnaam.",
        ),
        _expectation(
            "expect_table_row_count_to_be_between",
            {"min_value": 1, "max_value": None},
            "Minstens een check-uitkomst.",
        ),
    ]
    for column in columns:
        if column not in NULLABLE_COLUMNS:
            expectations.append(_not_null(column))
        expectations.extend(rules[column])
    expectations.extend(
        _expectation(
            "expect_column_values_to_not_match_regex",
            {"column": column, "regex": DIGIT_RUN.pattern},
            _DIGIT_RUN_NOTE,
        )
        for column in columns
    )
    expectations.append(
        _expectation(
            "expect_compound_columns_to_be_unique",
            {"column_list": ["melding_id", "check_id"]},
            "Een rij per check per melding.",
        )
    )
    return {
        "name": SUITE_NAME,
        "id": None,
        "expectations": expectations,
        "meta": {
            "great_expectations_version": GX_VERSION,
            "beschrijving": _BESCHRIJVING,
            "gegenereerd": _GEGENEREERD,
        },
        "notes": None,
    }


def suite_text(suite: Mapping[str, Any]) -> str:
    """The exact file content: stable indentation, readable UTF-8, one final newline."""
    return json.dumps(suite, indent=2, ensure_ascii=False) + "\n"


def suite_path(expectations_dir: Path) -> Path:
    return expectations_dir / f"{SUITE_NAME}.json"


def write_suite(expectations_dir: Path, text: str) -> bool:
    """Write the suite file atomically; False when it already had exactly this content."""
    path = suite_path(expectations_dir)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    expectations_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=expectations_dir, prefix=f".{SUITE_NAME}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def _label(expectation: Mapping[str, Any]) -> str:
    kwargs = expectation.get("kwargs") or {}
    column = kwargs.get("column") if isinstance(kwargs, Mapping) else None
    if column is None and isinstance(kwargs, Mapping) and isinstance(kwargs.get("column_list"), list):
        column = ",".join(str(c) for c in kwargs["column_list"])
    return f"{expectation.get('type')}[{column or '-'}]"


def suite_differences(generated: Mapping[str, Any], committed: str | None) -> list[str]:
    """What a committed suite file differs in from the generated one; empty when identical.

    Names expectations (type and column) only. The text must match exactly: a
    generated file is never hand-formatted either.
    """
    if committed is None:
        return ["bestand ontbreekt"]
    if committed == suite_text(generated):
        return []
    try:
        parsed = json.loads(committed)
    except ValueError:
        return ["geen geldige JSON"]
    if not isinstance(parsed, dict):
        return ["geen JSON-object"]
    if parsed == generated:
        return ["alleen de opmaak wijkt af"]
    problems = [
        f"{key} wijkt af" for key in generated if key != "expectations" and parsed.get(key) != generated[key]
    ]
    problems += [f"onbekend veld {key}" for key in parsed if key not in generated]
    want = {_label(e): e for e in generated["expectations"]}
    raw = parsed.get("expectations")
    have = {_label(e): e for e in raw if isinstance(e, Mapping)} if isinstance(raw, list) else {}
    problems += [f"ontbreekt: {label}" for label in want if label not in have]
    problems += [f"extra: {label}" for label in have if label not in want]
    problems += [f"gewijzigd: {label}" for label in want if label in have and have[label] != want[label]]
    if not problems and raw != generated["expectations"]:
        problems.append("volgorde of aantal van de expectations wijkt af")
    return problems

"""Hostile input to `melding indienen`: never a traceback, every record accounted for, no values stored.

Property tests (hypothesis) throw arbitrary bytes, JSON-ish text and valid
meldingen mixed with garbage at the decoder and the whole intake path; the
example tests pin each attack found so far.
"""

from __future__ import annotations

import codecs
import json
import re
import string
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import islice

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nazorg import intake
from nazorg.inbox import MAX_QUARANTAINE_RIJEN, dien_in
from nazorg.intake import (
    MAX_DEPTH,
    REDEN_CODES_DECODE,
    SCHEMA_VELDEN,
    Beoordeling,
    beoordeel,
    beoordeel_alle,
    decode,
    nieuwe_inzending,
)
from nazorg.store import Store, make_engine
from nazorg_dev.sim.population import synthetic_bsns

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 29)
GEMEENTEN = {"9901", "9902"}
BSNS = list(islice(synthetic_bsns(), 50))
WS = b" \t\r\n"
FAST = settings(
    max_examples=150,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the worktree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SCHEMA_CODES = {
    "veld_ontbreekt",
    "onbekend_veld",
    "formaat_ongeldig",
    "te_lang",
    "te_kort",
    "type_ongeldig",
    "waarde_ongeldig",
    "datum_ongeldig",
    "ongeldig",
    "bsn_elfproef",
    "gemeente_onbekend",
    "datum_in_toekomst",
    "datum_te_oud",
    "einddatum_voor_binnenkomst",
    "melding_id_cijferreeks",
    "geen_object",
}
STORE_CODES = {"melding_id_conflict", "quarantaine_limiet"}
ALL_CODES = REDEN_CODES_DECODE | SCHEMA_CODES | STORE_CODES  # "intern_fout" must never show up
VELD = re.compile(r"<onbekend_veld(?::\d+)?>|<aantal:\d+>")


# --- strategies -------------------------------------------------------------------------------

INRICHTING_CHARS = string.ascii_letters + " .,'()-"


@st.composite
def valid_records(draw: st.DrawFn) -> dict[str, object]:
    binnen = TODAY - timedelta(days=draw(st.integers(0, 300)))
    record: dict[str, object] = {
        "melding_id": "EDM-" + draw(st.text(string.ascii_uppercase, min_size=4, max_size=10)),
        "bsn": draw(st.sampled_from(BSNS)),
        "gemeente_code": draw(st.sampled_from(sorted(GEMEENTEN))),
        "inrichting": draw(st.text(INRICHTING_CHARS, min_size=2, max_size=40)),
        "datum_binnenkomst": binnen.isoformat(),
    }
    if draw(st.booleans()):
        record["verwachte_einddatum"] = (TODAY + timedelta(days=draw(st.integers(0, 400)))).isoformat()
    if draw(st.booleans()):
        record["reclassering_betrokken"] = draw(st.sampled_from(["ja", "nee"]))
    return record


def _line(record: dict[str, object]) -> bytes:
    return json.dumps(record).encode()


HOSTILE_LINES = [
    b"[" * 1000,
    b"{" * 40 + b"}" * 40,
    b'{"a":' * 33 + b"1" + b"}" * 33,
    b"[" * 20_000,
    b'{"a": 1, "a": 2}',
    b'{"bsn": "999000007", "bsn": "999000019"}',
    b"NaN",
    b"[Infinity, -Infinity]",
    b"1" * 5000,
    b'{"melding_id": 1' + b"0" * 4400 + b"}",
    b"1e400",
    b'{"bsn": 999000007.0}',
    b"-" + b"9" * 30,
    b"\xff\xfe\x00",
    b'"\\ud800"',
    b"\xed\xa0\x80",  # an encoded surrogate: not UTF-8
    b"{",
    b"}",
    b"]",
    b"[",
    b'"',
    b'"\\',
    b"\xef\xbb\xbf{}",
    b"\x00",
    b"[1,,2]",
    b"{}" * 3000,
    b"[" + b"0," * 100 + b"0]",
]
JSONISH = '[]{}",:\\ 0123456789eE.-+tfnaulsrNIy\t\r\x00\x7fé€'
json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=15,
)


@st.composite
def broken_records(draw: st.DrawFn) -> bytes:
    """A valid melding, made invalid in one way an attacker might try."""
    record = dict(draw(valid_records()))
    how = draw(st.sampled_from(["extra", "type", "dup", "cut", "drop"]))
    if how == "extra":
        record["x_geheim_" + draw(st.text(string.ascii_lowercase + "_", min_size=1, max_size=20))] = True
    elif how == "type":
        record[draw(st.sampled_from(sorted(SCHEMA_VELDEN)))] = draw(
            json_leaves.filter(lambda v: v is not None)
        )
    elif how == "drop":
        record.pop(draw(st.sampled_from(["melding_id", "bsn", "inrichting"])))
    text = json.dumps(record).encode()
    if how == "dup":
        text = text[:-1] + b', "bsn": "' + str(draw(st.sampled_from(BSNS))).encode() + b'"}'
    elif how == "cut":
        text = text[: draw(st.integers(0, len(text) - 1))]
    return text


garbage_lines = st.one_of(
    st.sampled_from(HOSTILE_LINES),
    st.text(JSONISH, max_size=200).map(lambda s: s.encode()),
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    broken_records(),
).map(lambda b: b.replace(b"\n", b""))

blank_lines = st.sampled_from([b"", b"   ", b"\t", b"\r"])


@st.composite
def mixed_files(draw: st.DrawFn) -> tuple[bytes, list[bytes], set[int]]:
    """JSON Lines: a valid first line, then valid records, garbage and blank lines.

    Returns the file, its lines and the (1-based) numbers of the valid lines.
    """
    lines: list[bytes] = [_line(draw(valid_records()))]
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["valid", "garbage", "garbage", "blank"]))
        if kind == "valid":
            lines.append(_line(draw(valid_records())))
        elif kind == "garbage":
            lines.append(draw(garbage_lines))
        else:
            lines.append(draw(blank_lines))
    valid = {n for n, line in enumerate(lines, start=1) if _is_valid_line(line)}
    newline = draw(st.sampled_from([b"\n", b"\r\n"]))
    data = newline.join(lines) + draw(st.sampled_from([b"", newline]))
    if draw(st.booleans()):
        data = codecs.BOM_UTF8 + data
    return data, lines, valid


def _is_valid_line(line: bytes) -> bool:
    """Reference judgement: the standard library's json (duplicate keys refused), then the schema."""

    def unique(pairs: list[tuple[str, object]]) -> dict[str, object]:
        if len({key for key, _ in pairs}) != len(pairs):
            raise ValueError("dubbel")
        return dict(pairs)

    try:
        record = json.loads(line.decode("utf-8"), object_pairs_hook=unique)
    except (ValueError, RecursionError):
        return False
    return beoordeel(record, "t", GEMEENTEN, TODAY).melding is not None


def _non_blank(data: bytes) -> int:
    return sum(1 for line in data.split(b"\n") if line.strip(WS))


# --- checks -----------------------------------------------------------------------------------


def judge(data: bytes | str, inzending: str | None = None) -> list[Beoordeling]:
    return list(beoordeel_alle(decode(data, inzending or nieuwe_inzending()), GEMEENTEN, TODAY))


def assert_no_values(judged: list[Beoordeling], inzending_re: str = "[0-9a-f]{32}") -> None:
    """Only codes, schema field names and neutral origins; never caller text (melding_id aside)."""
    for b in judged:
        assert re.fullmatch(rf"inzending:{inzending_re}(:\d+)?", b.herkomst), b.herkomst
        for a in b.afwijzingen:
            assert a.reden_code in ALL_CODES, a.reden_code
            assert a.veld is None or a.veld in SCHEMA_VELDEN or VELD.fullmatch(a.veld), a.veld
        if b.melding_id is not None:
            assert intake.MELDING_ID.match(b.melding_id) and not intake.DIGIT_RUN.search(b.melding_id)


def codes(b: Beoordeling) -> set[str]:
    return {a.reden_code for a in b.afwijzingen}


# --- property tests: decoder ------------------------------------------------------------------


@FAST
@given(st.binary(max_size=3000), st.sampled_from([b"", *(bom for bom, _ in intake._BOMS)]))
def test_arbitrary_bytes_never_raise(data: bytes, bom: bytes) -> None:
    judged = judge(bom + data)
    assert_no_values(judged)
    numbers = [int(b.herkomst.rsplit(":", 1)[1]) for b in judged]
    assert numbers == sorted(set(numbers))  # one origin per record, in file order
    has_bom = any((bom + data).startswith(mark) for mark, _ in intake._BOMS)
    if not has_bom and not data.lstrip(WS).startswith((b"[", b"{")):
        assert len(judged) == _non_blank(data)  # JSON Lines: one result per non-blank line


@FAST
@given(st.text(JSONISH, max_size=400), st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))
def test_jsonish_text_never_raises(text: str, encoding: str) -> None:
    judged = judge(text.encode(encoding))
    assert_no_values(judged)
    # UTF-16-LE's BOM followed by a NUL character is byte for byte UTF-32-LE's BOM
    # (FF FE 00 00): such a file may be read as UTF-32, and a UTF-32 file of whitespace
    # only as UTF-16 (refused, not read as nothing), so only "never raises" holds there.
    ambiguous_bom = (encoding == "utf-16" and text.startswith("\x00")) or (
        encoding == "utf-32" and not text.strip(" \t\r\n")
    )
    if not ambiguous_bom and not text.lstrip(" \t\r\n").startswith(("[", "{")):
        assert len(judged) == _non_blank(text.encode())


@FAST
@given(json_values, st.sampled_from([0, 2, None]))
def test_any_json_document_never_raises(value: object, indent: int | None) -> None:
    data = json.dumps(value, indent=indent).encode()
    judged = judge(data)
    assert_no_values(judged)
    if isinstance(value, list) and len(data) < 4096:
        assert len(judged) == len(value)  # an array: one result per element
    if isinstance(value, dict) and len(data) < 4096:
        assert len(judged) == 1


@FAST
@given(mixed_files())
def test_valid_records_among_garbage_are_accepted(case: tuple[bytes, list[bytes], set[int]]) -> None:
    data, lines, valid = case
    judged = judge(data)
    assert_no_values(judged)
    assert len(judged) == sum(1 for line in lines if line.strip(WS))  # count in == count out
    by_number = {int(b.herkomst.rsplit(":", 1)[1]): b for b in judged}
    for number in valid:
        assert by_number[number].melding is not None, number
    for number, b in by_number.items():
        assert (b.melding is not None) == (number in valid)


@FAST
@given(st.lists(st.one_of(valid_records().map(json.dumps), st.text(max_size=80)), min_size=1, max_size=15))
# UTF-16-LE starting with U+0000 begins FF FE 00 00, UTF-32-LE's BOM: these vanished (an empty
# or whitespace-only UTF-32 body), or spoiled the valid record after them (invalid UTF-32)
@example(["\x00"])
@example(["\x00", "\x00"])
@example(
    [
        "\x00",
        '{"melding_id": "EDM-000001", "bsn": "999000007", "gemeente_code": "9901", '
        '"inrichting": "PI Zuidkust", "datum_binnenkomst": "2026-11-28"}',
    ]
)
def test_utf16_and_utf32_files_decode_like_utf8(lines: list[str]) -> None:
    text = "\n".join(line.replace("\n", " ") for line in lines)
    expected = [(b.melding, codes(b)) for b in judge(text.encode())]
    for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"):
        data = text.encode(encoding)
        if encoding.endswith(("-be", "-le")):
            data = ("\ufeff").encode(encoding) + data
        got = [(b.melding, codes(b)) for b in judge(data)]
        if encoding in ("utf-32", "utf-32-le") and not text.strip(" \t\r\n"):
            # FF FE 00 00 and whitespace: as UTF-16-LE it holds U+0000, so it is refused, not
            # read as nothing (an empty UTF-32-LE file cannot be told from that)
            assert got and all(m is None for m, _ in got), encoding
            continue
        if encoding.startswith("utf-16") and _ook_utf32_le(data):
            # ambiguous: UTF-16-LE that starts with U+0000 and is valid UTF-32-LE with content too;
            # read as UTF-32 its lines may split differently, but nothing is lost: every record is
            # refused either way (no valid one can hide in it), and there is at least one
            assert got and all(m is None for m, _ in got + expected), encoding
            continue
        assert got == expected, encoding


def _ook_utf32_le(data: bytes) -> bool:
    if not data.startswith(codecs.BOM_UTF32_LE):
        return False
    try:
        return bool(data[4:].decode("utf-32-le").strip(" \t\r\n"))
    except UnicodeDecodeError:
        return False


def test_a_utf16_file_starting_with_nul_is_never_read_as_nothing() -> None:
    for text in ("\x00", "\x00\n\x00", "\x00\n" + valid(1).decode()):
        judged = judge(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
        assert judged, text.encode()
        assert [b.melding is not None for b in judged] == [
            b.melding is not None for b in judge(text.encode())
        ]
    # a UTF-32-LE BOM with nothing after it is refused (one row), not read as an empty file
    assert [codes(b) for b in judge(codecs.BOM_UTF32_LE)] == [{"geen_json"}]
    # a real UTF-32-LE file is still read as one (its bytes are valid UTF-16-LE too)
    assert [b.melding is not None for b in judge((valid(1).decode() + "\n").encode("utf-32"))] == [True]


@FAST
@given(
    st.lists(
        st.sampled_from([b"[", b"]", b"{", b"}", b",", b'"', b'"a"', b"0", b"\n", b" ", b"\\"]), max_size=300
    ),
    st.integers(1, 40),
)
def test_skipping_deep_chunks_changes_nothing(tokens: list[bytes], depth: int) -> None:
    """The fast path over deep, string-free chunks finds the same records as the plain scan."""
    data = b"[" * depth + b"".join(tokens) + b"]" * depth + b"," + b"[" + b"".join(tokens) + b"]"
    for candidate in (data, b"[" + data + b"]"):
        plain = [(h.rsplit(":", 1)[1], r) for h, r in decode(candidate, "0" * 32)]
        original = intake._CHUNK
        try:
            intake._CHUNK = 2  # skip whenever deeper than 2 and a 2-byte chunk has no quote
            fast = [(h.rsplit(":", 1)[1], r) for h, r in decode(candidate, "0" * 32)]
        finally:
            intake._CHUNK = original
        assert fast == plain


# --- property test: the whole intake path -----------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    from nazorg import migrations

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'nazorg.db'}")
    migrations.upgrade(engine)
    yield Store(engine)
    engine.dispose()


def _rows(store: Store, inzending: str) -> list[dict[str, object]]:
    prefix = f"inzending:{inzending}"
    return [
        r
        for r in store.query("quarantaine_list")
        if r["herkomst"] == prefix or str(r["herkomst"]).startswith(prefix + ":")
    ]


def _letters(n: int = 10) -> str:
    return "".join(chr(ord("A") + int(c, 16)) for c in uuid.uuid4().hex[:n])


@settings(FAST, max_examples=60)
@given(mixed_files(), st.integers(0, 12))
def test_intake_path_accounts_for_every_record_and_stores_no_values(
    store: Store, case: tuple[bytes, list[bytes], set[int]], max_rijen: int
) -> None:
    data, lines, valid = case
    # unique ids per example, so a valid record is new ("opgeslagen") or, when the same
    # record appears twice in the file, already present or a conflict
    unique = _letters()
    data = data.replace(b'"melding_id": "EDM-', f'"melding_id": "EDM-{unique}'.encode())
    inzending = nieuwe_inzending()
    records = len(list(decode(data, inzending)))
    result = dien_in(
        store,
        beoordeel_alle(decode(data, inzending), GEMEENTEN, TODAY),
        inzending=inzending,
        max_rijen=max_rijen,
    )
    rows = _rows(store, inzending)

    assert result.totaal == records == sum(1 for line in lines if line.strip(WS))
    refused = result.aantallen["quarantaine"] + result.aantallen["conflict"]
    per_record = {r["herkomst"] for r in rows if r["reden_code"] != "quarantaine_limiet"}
    assert len(per_record) + result.boven_limiet == refused
    assert len(rows) - (1 if result.boven_limiet else 0) <= max_rijen
    summary = [r for r in rows if r["reden_code"] == "quarantaine_limiet"]
    if result.boven_limiet:
        assert [r["veld"] for r in summary] == [f"<aantal:{result.boven_limiet}>"]
        assert summary[0]["herkomst"] == f"inzending:{inzending}"
    else:
        assert summary == []
    assert result.aantallen["opgeslagen"] + result.aantallen["al_aanwezig"] + result.aantallen[
        "conflict"
    ] == len(valid)

    dump = json.dumps(rows)
    vocabulary = " ".join([*SCHEMA_VELDEN, *ALL_CODES, "inzending", "intake"])
    for r in rows:
        assert r["reden_code"] in ALL_CODES
        assert r["veld"] is None or r["veld"] in SCHEMA_VELDEN or VELD.fullmatch(str(r["veld"]))
    for bsn in BSNS:
        assert bsn not in dump
    assert "x_geheim" not in dump
    for line in lines:  # nothing a caller wrote shows up, other than a melding_id or a schema name
        for chunk in re.findall(rb"[A-Za-z]{12,}", re.sub(rb'"melding_id": "[^"]*"', b"", line)):
            if chunk.decode() not in vocabulary:
                assert chunk.decode() not in dump


# --- example tests: each attack ---------------------------------------------------------------

VALID = {
    "melding_id": "EDM-000001",
    "bsn": "999000007",
    "gemeente_code": "9901",
    "inrichting": "PI Zuidkust",
    "datum_binnenkomst": "2026-11-28",
}


def valid(n: int) -> bytes:
    return json.dumps({**VALID, "melding_id": f"EDM-{n:06d}"}).encode()


def test_deep_nesting_refuses_the_line_not_the_file() -> None:
    data = b"\n".join([valid(1), b"[" * 100_000, b"[" * (MAX_DEPTH + 1), b"{" * 1000, valid(2)])
    judged = judge(data)
    assert [b.melding is not None for b in judged] == [True, False, False, False, True]
    assert codes(judged[1]) == {"te_groot"}  # 100,000 bytes: refused before it is even scanned
    assert codes(judged[2]) == codes(judged[3]) == {"te_diep"}


def test_deep_nesting_as_the_first_line_or_inside_an_array() -> None:
    judged = judge(b"[" * 1000 + b"\n" + valid(1))
    assert [codes(b) for b in judged] == [{"te_diep"}, set()]
    deep = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)
    judged = judge(b"[" + valid(1) + b"," + deep + b"," + valid(2) + b"]")
    assert [codes(b) for b in judged] == [set(), {"te_diep"}, set()]
    huge = b"[" * 100_000 + b"]" * 100_000
    assert [codes(b) for b in judge(b"[" + huge + b"," + valid(3) + b"]")] == [{"te_groot"}, set()]


def test_deep_objects_from_an_api_caller_do_not_raise() -> None:
    nested: list[object] = []
    for _ in range(100_000):
        nested = [nested]
    cyclic: dict[str, object] = {**VALID}
    cyclic["self"] = cyclic
    assert codes(beoordeel({**VALID, "x": nested}, "api", GEMEENTEN, TODAY)) == {"te_diep"}
    assert codes(beoordeel(cyclic, "api", GEMEENTEN, TODAY)) == {"ongeldig"}
    assert codes(beoordeel({**VALID, "bsn": 10**5000}, "api", GEMEENTEN, TODAY)) == {"ongeldig"}
    assert codes(beoordeel({**VALID, "bsn": float("nan")}, "api", GEMEENTEN, TODAY)) == {"type_ongeldig"}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be"])
def test_utf16_and_utf32_with_bom_are_decoded(encoding: str) -> None:
    text = "\ufeff" + valid(1).decode() + "\n" + valid(2).decode() + "\n"
    data = text.encode(encoding)
    if encoding in ("utf-16", "utf-32"):  # these add their own BOM
        data = text[1:].encode(encoding)
    judged = judge(data)
    assert [b.melding is not None for b in judged] == [True, True]


def test_utf16_with_a_broken_unit_refuses_only_that_line() -> None:
    body = (valid(1).decode() + "\n").encode("utf-16-le")
    body += b"\x00\xd8" + '"x"\n'.encode("utf-16-le")  # a lone high surrogate
    body += (valid(2).decode() + "\n").encode("utf-16-le") + b"\x41"  # an odd trailing byte
    judged = judge(codecs.BOM_UTF16_LE + body)
    assert [codes(b) for b in judged] == [set(), {"codering_ongeldig"}, set(), {"codering_ongeldig"}]


def test_utf8_bom_is_accepted() -> None:
    assert [b.melding is not None for b in judge(codecs.BOM_UTF8 + valid(1))] == [True]
    jsonl = codecs.BOM_UTF8 + valid(1) + b"\n" + valid(2)
    assert [b.melding is not None for b in judge(jsonl)] == [True, True]


def test_invalid_utf8_refuses_only_the_affected_records() -> None:
    data = valid(1) + b"\n" + b'{"inrichting": "PI \xff"}\n' + valid(2) + b"\n"
    assert [codes(b) for b in judge(data)] == [set(), {"codering_ongeldig"}, set()]
    array = b"[" + valid(1) + b',"\xc3\x28",' + valid(2) + b"]"
    assert [codes(b) for b in judge(array)] == [set(), {"codering_ongeldig"}, set()]


def test_lone_surrogates_in_text_input_are_refused() -> None:
    text = valid(1).decode() + '\n{"bsn": "\udcff"}\n'
    assert [codes(b) for b in judge(text)] == [set(), {"codering_ongeldig"}]


def test_duplicate_keys_are_refused() -> None:
    second_bsn = valid(1)[:-1] + b', "bsn": "999000019"}'
    nested = b'{"a": {"b": 1, "b": 2}}'
    judged = judge(b"\n".join([second_bsn, nested, valid(2)]))
    assert [codes(b) for b in judged] == [{"dubbele_sleutel"}, {"dubbele_sleutel"}, set()]


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b'{"bsn": 1' + b"0" * 5000 + b"}", "getal_te_groot"),  # Python's int() would raise
        (b"-" + b"9" * 30, "getal_te_groot"),
        (b'{"x": 1e400}', "getal_te_groot"),
        (b'{"x": 1.' + b"5" * 100 + b"}", "getal_te_groot"),
        (b'{"x": NaN}', "getal_ongeldig"),
        (b"[Infinity]", "getal_ongeldig"),
        (b'{"x": -Infinity}', "getal_ongeldig"),
    ],
)
def test_hostile_numbers_get_a_reason_code(line: bytes, code: str) -> None:
    judged = judge(valid(1) + b"\n" + line + b"\n" + valid(2))
    assert [codes(b) for b in judged] == [set(), {code}, set()]


def test_numbers_where_strings_belong_are_type_errors() -> None:
    record = json.dumps({**VALID, "bsn": 999000007.5, "inrichting": 1e300}).encode()
    assert codes(judge(record)[0]) == {"type_ongeldig"}


def test_too_large_record_and_file() -> None:
    big = json.dumps({**VALID, "inrichting": "x" * 9000}).encode()
    assert [codes(b) for b in judge(valid(1) + b"\n" + big)] == [set(), {"te_groot"}]
    padded = json.dumps({**VALID, "inrichting": "x" * 5000}).encode()  # raw fits, compact does not
    assert codes(judge(padded)[0]) == {"te_groot"}


def test_file_over_the_cap_is_one_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake, "MAX_FILE_BYTES", 100)
    inzending = nieuwe_inzending()
    judged = judge(valid(1) + b"\n" + valid(2), inzending)
    assert [(b.herkomst, codes(b)) for b in judged] == [(f"inzending:{inzending}", {"bestand_te_groot"})]


def test_a_bug_in_judging_one_record_does_not_stop_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    real = intake.beoordeel

    def flaky(raw: object, *args: object) -> Beoordeling:
        if isinstance(raw, dict) and raw.get("melding_id") == "EDM-000002":
            raise ValueError("999000007")  # an exception that carries a value
        return real(raw, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(intake, "beoordeel", flaky)
    judged = judge(b"\n".join([valid(1), valid(2), valid(3)]))
    assert [codes(b) for b in judged] == [set(), {"intern_fout"}, set()]
    assert "999000007" not in repr(judged[1])


def test_array_elements_are_decoded_independently() -> None:
    data = b"[" + b",\n  ".join([valid(1), b'{"a":,}', b"NaN", valid(2), b""]) + b"]"
    judged = judge(data)
    assert [codes(b) for b in judged] == [set(), {"geen_json"}, {"getal_ongeldig"}, set(), {"geen_json"}]
    assert judge(b"[]") == judge(b" [ \n ] ") == []


def test_a_pretty_printed_object_is_one_record() -> None:
    assert [b.melding is not None for b in judge(json.dumps(VALID, indent=4).encode())] == [True]


def test_unknown_field_names_are_counted_not_named() -> None:
    record = {**VALID, "hiv_positief": True, "diagnose_999000019": "x"}
    [judged] = judge(json.dumps(record).encode())
    assert [(a.reden_code, a.veld) for a in judged.afwijzingen] == [("onbekend_veld", "<onbekend_veld:2>")]
    assert "hiv" not in repr(judged) and "999000019" not in repr(judged)


def test_a_submission_id_is_required_and_checked() -> None:
    with pytest.raises(ValueError, match="inzending-id"):
        list(decode(valid(1), "bsn_999000007.jsonl"))


# --- example tests against the store ----------------------------------------------------------


def test_100000_zeros_write_capped_rows_and_one_summary(store: Store) -> None:
    data = b"[" + b",".join([b"0"] * 100_000) + b"]"
    inzending = nieuwe_inzending()
    result = dien_in(store, beoordeel_alle(decode(data, inzending), GEMEENTEN, TODAY), inzending=inzending)
    rows = _rows(store, inzending)
    assert result.aantallen == Counter({"quarantaine": 100_000})
    assert len(rows) == MAX_QUARANTAINE_RIJEN + 1
    summary = [r for r in rows if r["reden_code"] == "quarantaine_limiet"]
    assert [(r["herkomst"], r["veld"]) for r in summary] == [
        (f"inzending:{inzending}", f"<aantal:{100_000 - MAX_QUARANTAINE_RIJEN}>")
    ]
    assert result.boven_limiet == 100_000 - MAX_QUARANTAINE_RIJEN


def test_valid_records_beyond_the_cap_are_still_stored(store: Store) -> None:
    unique = _letters()
    good = [json.dumps({**VALID, "melding_id": f"EDM-{unique}-{n}"}).encode() for n in "ABC"]
    data = b"\n".join([good[0], *([b"0"] * 50), good[1], b"x", good[2]])
    inzending = nieuwe_inzending()
    judged = beoordeel_alle(decode(data, inzending), GEMEENTEN, TODAY)
    result = dien_in(store, judged, inzending=inzending, max_rijen=10)
    assert result.aantallen == Counter({"opgeslagen": 3, "quarantaine": 51})
    assert result.melding_ids == tuple(f"EDM-{unique}-{n}" for n in "ABC")
    assert result.boven_limiet == 41
    assert len(_rows(store, inzending)) == 11


def test_unknown_field_name_is_not_stored(store: Store) -> None:
    record = json.dumps({**VALID, "melding_id": "EDM-HIV", "hiv_positief": True}).encode()
    inzending = nieuwe_inzending()
    dien_in(store, beoordeel_alle(decode(record, inzending), GEMEENTEN, TODAY), inzending=inzending)
    rows = _rows(store, inzending)
    assert [(r["reden_code"], r["veld"], r["melding_id"]) for r in rows] == [
        ("onbekend_veld", "<onbekend_veld:1>", "EDM-HIV")
    ]
    assert "hiv" not in json.dumps(rows)


def test_a_records_reasons_are_written_together(store: Store) -> None:
    """Several reasons of one record count as that record's rows, all or none past the cap."""
    many = json.dumps({"melding_id": "EDM-LEEG"}).encode()  # four missing fields
    inzending = nieuwe_inzending()
    result = dien_in(
        store, beoordeel_alle(decode(many, inzending), GEMEENTEN, TODAY), inzending=inzending, max_rijen=3
    )
    rows = _rows(store, inzending)
    assert result.boven_limiet == 1
    assert [r["reden_code"] for r in rows] == ["quarantaine_limiet"]


def test_dien_in_refuses_a_file_name_as_submission_id(store: Store) -> None:
    with pytest.raises(ValueError, match="inzending-id"):
        dien_in(store, [], inzending="meldingen.jsonl")


def test_records_from_python_keep_their_given_origin(store: Store) -> None:
    inzending = nieuwe_inzending()
    herkomst = f"inzending:{inzending}:1"
    result = dien_in(
        store, beoordeel_alle([(herkomst, [1])], GEMEENTEN, TODAY), inzending=inzending, max_rijen=5
    )
    assert result.aantallen == Counter({"quarantaine": 1})
    assert [r["herkomst"] for r in _rows(store, inzending)] == [herkomst]

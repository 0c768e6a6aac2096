"""Hostile batch files (CSV, Parquet) for `nazorg batch --meldingen`: never a traceback, never a dropped row.

The readers only decode; validation and quarantine are the ordinary intake's.
So the properties here are the intake's: any bytes give records or refusals
(never an exception), every row is accounted for, a row that fails is
quarantined with a reason code and no value, and a valid melding means the
same in CSV, Parquet and JSON.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nazorg import intake
from nazorg.batch import invoer
from nazorg.batch.invoer import REDEN_CODES_INVOER, formaat_voor, lees
from nazorg.inbox import dien_in
from nazorg.intake import SCHEMA_VELDEN, Beoordeling, beoordeel_alle, decode, nieuwe_inzending
from nazorg.store import Store, make_engine
from tests.unit.test_intake_hostile import (
    ALL_CODES,
    BSNS,
    FAST,
    GEMEENTEN,
    TODAY,
    VELD,
    garbage_lines,
    valid_records,
)

pytestmark = pytest.mark.unit

CODES = ALL_CODES | REDEN_CODES_INVOER
KOP = ["melding_id", "bsn", "gemeente_code", "inrichting", "datum_binnenkomst", "verwachte_einddatum"]
VOLLEDIG = [*KOP, "reclassering_betrokken"]
WS = b" \t\r\n"


#: the gemeenten with the answer fields their besluit reads: Ruimhaven (9901) reads
#: reclassering_betrokken, so a reader test sees the value it decoded
LEZERS = {code: frozenset({"reclassering_betrokken"}) for code in GEMEENTEN}


def judge(data: bytes, formaat: str, inzending: str | None = None) -> list[Beoordeling]:
    return list(beoordeel_alle(lees(data, formaat, inzending or nieuwe_inzending()), LEZERS, TODAY))


def codes(b: Beoordeling) -> set[str]:
    return {a.reden_code for a in b.afwijzingen}


def assert_no_values(judged: list[Beoordeling]) -> None:
    for b in judged:
        assert re.fullmatch(r"inzending:[0-9a-f]{32}(:\d+)?", b.herkomst), b.herkomst
        for a in b.afwijzingen:
            assert a.reden_code in CODES, a.reden_code
            assert a.veld is None or a.veld in SCHEMA_VELDEN or VELD.fullmatch(a.veld), a.veld


def csv_bytes(rows: list[dict[str, object]], kolommen: list[str] = VOLLEDIG, delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, kolommen, delimiter=delimiter, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def parquet_bytes(columns: dict[str, object], **kwargs: object) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink, **kwargs)  # type: ignore[arg-type]
    return sink.getvalue()


def parquet_van(records: list[dict[str, object]], **kwargs: object) -> bytes:
    import pyarrow as pa

    def kolom(naam: str) -> object:
        values = [r.get(naam) for r in records]
        if naam.startswith("datum") or naam == "verwachte_einddatum":
            return pa.array([None if v is None else date.fromisoformat(str(v)) for v in values], pa.date32())
        return pa.array(values, pa.string())

    return parquet_bytes({naam: kolom(naam) for naam in VOLLEDIG}, **kwargs)


def json_judgement(records: list[dict[str, object]]) -> list[object]:
    data = "\n".join(json.dumps(r) for r in records).encode()
    return [b.melding for b in judge(data, "json")]


# --- format choice ----------------------------------------------------------------------------


def test_format_follows_the_extension_unless_named() -> None:
    from pathlib import Path

    assert formaat_voor(Path("a.JSONL")) == "json"
    assert formaat_voor(Path("a.csv")) == "csv"
    assert formaat_voor(Path("a.parquet")) == "parquet"
    assert formaat_voor(Path("a.txt")) is None
    assert formaat_voor(Path("a.txt"), "csv") == "csv"
    assert formaat_voor(Path("a.csv"), "xml") is None


# --- property tests: CSV ----------------------------------------------------------------------


@FAST
@given(st.binary(max_size=3000), st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE]))
def test_arbitrary_bytes_as_csv_never_raise(data: bytes, bom: bytes) -> None:
    judged = judge(bom + data, "csv")
    assert_no_values(judged)
    numbers = [int(b.herkomst.rsplit(":", 1)[1]) for b in judged]
    assert numbers == sorted(set(numbers))


@FAST
@given(st.binary(max_size=2000))
def test_arbitrary_rows_under_a_valid_header_are_each_accounted_for(body: bytes) -> None:
    data = ",".join(KOP).encode() + b"\n" + body
    judged = judge(data, "csv")
    assert_no_values(judged)
    lines = data.split(b"\n")
    expected = [n for n, line in enumerate(lines, start=1) if n > 1 and line.strip(WS)]
    assert [int(b.herkomst.rsplit(":", 1)[1]) for b in judged] == expected  # one result per line


@FAST
@given(st.lists(valid_records(), min_size=1, max_size=8), st.sampled_from([",", ";"]))
def test_a_valid_melding_means_the_same_in_csv_and_json(records: list[dict[str, object]], sep: str) -> None:
    judged = judge(csv_bytes(records, delimiter=sep), "csv")
    assert [b.melding for b in judged] == json_judgement(records)
    assert all(b.melding is not None for b in judged)


@FAST
@given(st.lists(valid_records(), min_size=1, max_size=8))
def test_a_valid_melding_means_the_same_in_parquet_and_json(records: list[dict[str, object]]) -> None:
    judged = judge(parquet_van(records), "parquet")
    assert [b.melding for b in judged] == json_judgement(records)
    assert all(b.melding is not None for b in judged)


# --- property tests: Parquet ------------------------------------------------------------------


@FAST
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_as_parquet_never_raise(data: bytes) -> None:
    judged = judge(data, "parquet")
    assert_no_values(judged)
    assert len(judged) == 1 and codes(judged[0]) == {"geen_parquet"}


VOORBEELD = parquet_van(
    [
        {
            "melding_id": f"EDM-{n:06d}",
            "bsn": BSNS[n],
            "gemeente_code": "9901",
            "inrichting": "PI Zuidkust",
            "datum_binnenkomst": "2026-11-20",
        }
        for n in range(20)
    ],
    row_group_size=7,
)


@FAST
@given(st.lists(st.tuples(st.integers(0, len(VOORBEELD) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_a_corrupted_parquet_file_never_raises_and_drops_no_row(flips: list[tuple[int, int]]) -> None:
    data = bytearray(VOORBEELD)
    for pos, value in flips:
        data[pos] = value
    judged = judge(bytes(data), "parquet")
    assert_no_values(judged)
    whole_file = [b for b in judged if b.herkomst.count(":") == 1]
    if whole_file:
        assert len(judged) == 1
    else:  # the footer was accepted: one result per declared row, numbered 1..n
        assert [int(b.herkomst.rsplit(":", 1)[1]) for b in judged] == list(range(1, len(judged) + 1))


# --- property test: through the intake into the inbox and quarantine --------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    from nazorg import migrations

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('invoer') / 'nazorg.db'}")
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


@FAST
@given(
    st.lists(
        st.one_of(valid_records().map(lambda r: ("valid", r)), garbage_lines.map(lambda g: ("garbage", g))),
        min_size=1,
        max_size=15,
    )
)
def test_a_csv_row_that_fails_is_quarantined_with_a_code_and_no_value(
    store: Store, rows: list[tuple[str, object]]
) -> None:
    import uuid

    unique = "".join(chr(ord("A") + int(c, 16)) for c in uuid.uuid4().hex[:8])
    lines = [",".join(VOLLEDIG).encode()]
    for kind, row in rows:
        if kind == "valid":
            assert isinstance(row, dict)
            record = {**row, "melding_id": f"{row['melding_id']}-{unique}"[:64]}
            lines.append(csv_bytes([record]).split(b"\n")[1])
        else:
            assert isinstance(row, bytes)
            lines.append(row.replace(b"\r", b""))
    data = b"\n".join(lines) + b"\n"
    inzending = nieuwe_inzending()
    expected = list(beoordeel_alle(lees(data, "csv", inzending), GEMEENTEN, TODAY))
    result = dien_in(store, iter(expected), inzending=inzending)
    quarantine = _rows(store, inzending)

    non_blank = sum(1 for line in lines[1:] if line.strip(WS))
    assert result.totaal == len(expected) == non_blank  # every row accounted for
    refused = [b for b in expected if b.melding is None]
    assert result.aantallen["quarantaine"] == len(refused)
    assert {r["herkomst"] for r in quarantine if r["reden_code"] != "melding_id_conflict"} == {
        b.herkomst for b in refused
    }
    for r in quarantine:
        assert r["reden_code"] in CODES
    dump = json.dumps(quarantine)
    for bsn in BSNS:
        assert bsn not in dump
    assert "x_geheim" not in dump


# --- example tests: CSV -----------------------------------------------------------------------

RIJ = {
    "melding_id": "EDM-000001",
    "bsn": "999000007",
    "gemeente_code": "9901",
    "inrichting": "PI Zuidkust",
    "datum_binnenkomst": "2026-11-28",
}


def rij(n: int, **extra: object) -> dict[str, object]:
    return {**RIJ, "melding_id": f"EDM-{n:06d}", **extra}


def test_empty_cells_are_absent_and_a_value_stays_the_text_it_is() -> None:
    data = csv_bytes([rij(1), rij(2, reclassering_betrokken="ja", verwachte_einddatum="2027-01-01")])
    judged = judge(data, "csv")
    assert [b.melding is not None for b in judged] == [True, True]
    assert judged[0].melding and judged[0].melding.verwachte_einddatum is None
    assert judged[1].melding and judged[1].melding.reclassering_betrokken == "ja"
    # no coercion: "true" is not ja, an empty required cell is a missing field, " 9901" keeps its space
    data = csv_bytes([rij(3, reclassering_betrokken="true"), rij(4, bsn=""), rij(5, gemeente_code=" 9901")])
    assert [codes(b) for b in judge(data, "csv")] == [
        {"waarde_ongeldig"},
        {"veld_ontbreekt"},
        {"formaat_ongeldig"},
    ]


def test_an_unknown_column_refuses_every_row_and_is_counted_not_named() -> None:
    data = csv_bytes([rij(1, hiv_positief="ja"), rij(2)], [*VOLLEDIG, "hiv_positief"])
    judged = judge(data, "csv")
    assert [[(a.reden_code, a.veld) for a in b.afwijzingen] for b in judged] == [
        [("onbekend_veld", "<onbekend_veld:1>")]
    ] * 2  # also the row that left the unknown column empty
    assert "hiv" not in repr(judged)


def test_a_duplicate_column_refuses_every_row() -> None:
    header = ",".join([*KOP, "bsn"])
    data = f"{header}\nEDM-000001,999000007,9901,PI Zuidkust,2026-11-28,,999000019\n".encode()
    assert [codes(b) for b in judge(data, "csv")] == [{"dubbele_sleutel"}]


def test_a_ragged_or_broken_row_refuses_only_itself() -> None:
    good = csv_bytes([rij(1), rij(3)]).split(b"\n")
    data = b"\n".join(
        [
            good[0],
            good[1],
            b"EDM-000002,999000007",
            good[1] + b",x,y",
            b'EDM-3,"PI',
            good[2],
        ]
    )
    assert [codes(b) for b in judge(data, "csv")] == [
        set(),
        {"kolom_aantal_ongeldig"},
        {"kolom_aantal_ongeldig"},
        {"geen_csv"},
        set(),
    ]


def test_a_file_without_a_header_is_refused_line_by_line_including_the_first() -> None:
    data = b"EDM-000001,999000007,9901,PI Z,2026-11-28,,\nEDM-000002,999000019,9901,PI Z,2026-11-28,,\n"
    judged = judge(data, "csv")
    assert [(b.herkomst.rsplit(":", 1)[1], codes(b)) for b in judged] == [
        ("1", {"kop_ongeldig"}),
        ("2", {"kop_ongeldig"}),
    ]
    assert "999000007" not in repr(judged)


def test_csv_with_a_bom_semicolons_crlf_and_utf16() -> None:
    text = csv_bytes([rij(1), rij(2)], delimiter=";").decode().replace("\n", "\r\n")
    for data in (codecs.BOM_UTF8 + text.encode(), text.encode("utf-16")):
        assert [b.melding is not None for b in judge(data, "csv")] == [True, True]


def test_a_long_line_and_bad_utf8_refuse_only_their_row() -> None:
    lines = csv_bytes([rij(1), rij(2, inrichting="x" * 9000), rij(3, inrichting="PI QQQ")]).split(b"\n")
    lines[3] = lines[3].replace(b"QQQ", b"\xff")
    assert [codes(b) for b in judge(b"\n".join(lines), "csv")] == [set(), {"te_groot"}, {"codering_ongeldig"}]


def test_a_csv_over_the_cap_is_one_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake, "MAX_FILE_BYTES", 100)
    inzending = nieuwe_inzending()
    judged = judge(csv_bytes([rij(1), rij(2)]), "csv", inzending)
    assert [(b.herkomst, codes(b)) for b in judged] == [(f"inzending:{inzending}", {"bestand_te_groot"})]


def test_json_goes_through_the_ordinary_decoder() -> None:
    data = json.dumps([rij(1), rij(2)]).encode()
    inzending = nieuwe_inzending()
    assert list(lees(data, "json", inzending)) == list(decode(data, inzending))


# --- example tests: Parquet -------------------------------------------------------------------


def test_parquet_null_cells_are_absent_and_dates_become_iso_text() -> None:
    import pyarrow as pa

    data = parquet_bytes(
        {
            "melding_id": ["EDM-000001", "EDM-000002"],
            "bsn": ["999000007", None],
            "gemeente_code": pa.array(["9901", "9902"]).dictionary_encode(),
            "inrichting": pa.array(["PI Zuidkust", "PI Zuidkust"], pa.large_string()),
            "datum_binnenkomst": pa.array([date(2026, 11, 28), date(2026, 11, 27)], pa.date64()),
            "verwachte_einddatum": pa.array([None, None], pa.null()),
        }
    )
    judged = judge(data, "parquet")
    assert judged[0].melding is not None and judged[0].melding.datum_binnenkomst == date(2026, 11, 28)
    assert [(a.reden_code, a.veld) for a in judged[1].afwijzingen] == [("veld_ontbreekt", "bsn")]


def test_parquet_columns_of_other_types_are_not_read_and_refuse_every_row() -> None:
    import pyarrow as pa

    base = {naam: [str(RIJ[naam])] * 2 for naam in RIJ}
    cases = {
        "gemeente_code": (pa.array([9901, 9901], pa.int64()), ("type_ongeldig", "gemeente_code")),
        "datum_binnenkomst": (pa.array([1, 2], pa.int32()), ("datum_ongeldig", "datum_binnenkomst")),
        "bsn": (pa.array([[1], [2]]), ("type_ongeldig", "bsn")),
        "reclassering_betrokken": (pa.array([True, None]), ("waarde_ongeldig", "reclassering_betrokken")),
        "diagnose_999000019": (pa.array(["x", None]), ("onbekend_veld", "<onbekend_veld:1>")),
    }
    for naam, (kolom, verwacht) in cases.items():
        judged = judge(parquet_bytes({**base, naam: kolom}), "parquet")
        afwijzingen = [[(a.reden_code, a.veld) for a in b.afwijzingen] for b in judged]
        if naam == "reclassering_betrokken":  # a boolean is read, and refused as JSON's true is
            assert afwijzingen == [[verwacht], []], naam
        else:
            assert afwijzingen == [[verwacht]] * 2, naam
        assert "999000019" not in repr(judged)


def test_parquet_dates_out_of_range_and_oversized_rows() -> None:
    import pyarrow as pa

    base = {naam: [str(RIJ[naam])] * 3 for naam in RIJ}
    data = parquet_bytes(
        {
            **base,
            "datum_binnenkomst": pa.array([2**31 - 1, -(2**31), 20_000], pa.int32()).cast(pa.date32()),
            "inrichting": ["PI Zuidkust", "PI Zuidkust", "x" * 9000],
        }
    )
    assert [codes(b) for b in judge(data, "parquet")] == [
        {"datum_ongeldig"},
        {"datum_ongeldig"},
        {"te_groot"},
    ]


def test_parquet_duplicate_column_names_refuse_every_row() -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays([pa.array(["999000007", "x"])] * 2, names=["bsn", "bsn"])
    sink = io.BytesIO()
    pq.write_table(table, sink)
    assert [codes(b) for b in judge(sink.getvalue(), "parquet")] == [{"dubbele_sleutel"}] * 2


def test_parquet_is_read_in_batches_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(invoer, "PARQUET_BATCH_RIJEN", 3)
    judged = judge(VOORBEELD, "parquet")
    assert [b.melding_id for b in judged] == [f"EDM-{n:06d}" for n in range(20)]
    assert [b.herkomst.rsplit(":", 1)[1] for b in judged] == [str(n) for n in range(1, 21)]


def test_parquet_over_the_row_cap_or_truncated_is_one_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert [codes(b) for b in judge(VOORBEELD[: len(VOORBEELD) // 2], "parquet")] == [{"geen_parquet"}]
    monkeypatch.setattr(invoer, "MAX_PARQUET_RIJEN", 19)
    inzending = nieuwe_inzending()
    judged = judge(VOORBEELD, "parquet", inzending)
    assert [(b.herkomst, codes(b)) for b in judged] == [(f"inzending:{inzending}", {"bestand_te_groot"})]


def test_parquet_whose_rows_cannot_be_read_refuses_each_of_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page that fails after the footer was accepted: the rows not read are refused, not dropped."""
    monkeypatch.setattr(invoer, "PARQUET_BATCH_RIJEN", 5)
    real = invoer._waarden
    calls = {"n": 0}

    def breaks_on_the_second_batch(kolom: object, soort: str) -> list[object]:
        calls["n"] += 1
        if calls["n"] > len(invoer.SCHEMA_VELDEN):  # columns of the first batch read fine
            raise OSError("corrupt page")
        return real(kolom, soort)

    monkeypatch.setattr(invoer, "_waarden", breaks_on_the_second_batch)
    judged = judge(VOORBEELD, "parquet")
    assert len(judged) == 20
    assert all(b.melding is not None for b in judged[:5])
    assert all(codes(b) == {"geen_parquet"} for b in judged[5:])


def test_every_refusal_code_of_the_readers_is_documented() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for code in REDEN_CODES_INVOER:
        assert f"`{code}`" in readme, code

"""The parts of the chunk processing on their own: guard bisection, bulk writes, retry rule, Parquet, log."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from nazorg import migrations
from nazorg.batch import bewaking, parquet
from nazorg.guard import Failure, GuardVerdict
from nazorg.processing_log import Verwerking, record, records
from nazorg.settings import SOURCE_ROOT
from nazorg.store import Store, _copy_plan, dispose_engines, make_engine, statement
from tests.conftest import TEST_KEY

KEY = TEST_KEY.encode()


# --------------------------------------------------------------------------- guard bisection


def _doc(melding_id: str, contact: str | None = None) -> dict[str, Any]:
    return {
        "melding_id": melding_id,
        "aandachtsgebieden": [
            {
                "aandachtsgebied": "zorg",
                "checks": [
                    {
                        "check_id": "wmo_zorg",
                        "uitkomst": "nee",
                        "dossierverantwoordelijke": contact,
                        "reden": None,
                    }
                ],
            }
        ],
    }


class _NepGX:
    """validate_frame stand-in: fails (row-level) while any 'slecht' contact is in the frame."""

    def __init__(
        self, failure: Failure = Failure("expect_column_values_to_be_in_set", "dossierverantwoordelijke")
    ):
        self.calls = 0
        self.failure = failure

    def __call__(self, frame: Any) -> GuardVerdict:
        self.calls += 1
        bad = bool((frame["dossierverantwoordelijke"] == "slecht").any())
        return GuardVerdict(passed=not bad, failures=(self.failure,) if bad else (), evaluated=22)


@pytest.fixture
def nep_gx(monkeypatch: pytest.MonkeyPatch) -> Iterator[_NepGX]:
    import nazorg.guard

    nep = _NepGX()
    monkeypatch.setattr(nazorg.guard, "validate_frame", nep)
    yield nep


@pytest.mark.unit
def test_a_clean_chunk_is_validated_once(nep_gx: _NepGX) -> None:
    uitslag = bewaking.bewaak({f"M-{i:04d}": _doc(f"M-{i:04d}") for i in range(1000)})
    assert len(uitslag.goedgekeurd) == 1000 and not uitslag.tegengehouden
    assert nep_gx.calls == uitslag.validaties == 1


@pytest.mark.unit
def test_bisection_finds_exactly_the_bad_meldingen_in_few_validations(nep_gx: _NepGX) -> None:
    documenten = {f"M-{i:04d}": _doc(f"M-{i:04d}") for i in range(1024)}
    slecht = {"M-0007", "M-0500", "M-1023"}
    for m in slecht:
        documenten[m] = _doc(m, "slecht")
    uitslag = bewaking.bewaak(documenten)
    assert set(uitslag.tegengehouden) == slecht
    assert set(uitslag.goedgekeurd) == set(documenten) - slecht
    assert not uitslag.tabelniveau
    assert uitslag.tegengehouden["M-0500"] == (nep_gx.failure,)
    assert nep_gx.calls == uitslag.validaties <= 1 + 2 * len(slecht) * 10  # 2 k log2(n)


@pytest.mark.unit
@pytest.mark.parametrize(
    "failure",
    [
        Failure("expect_table_columns_to_match_set", None),
        Failure("expect_column_values_to_be_in_set", "check_id"),
        Failure("expect_column_values_to_be_in_set", "aandachtsgebied"),
        Failure("guard_error", None),
    ],
)
def test_a_table_level_failure_holds_back_every_melding(nep_gx: _NepGX, failure: Failure) -> None:
    nep_gx.failure = failure
    documenten = {f"M-{i:04d}": _doc(f"M-{i:04d}") for i in range(10)}
    documenten["M-0003"] = _doc("M-0003", "slecht")
    uitslag = bewaking.bewaak(documenten)
    assert uitslag.tabelniveau and not uitslag.goedgekeurd
    assert set(uitslag.tegengehouden) == set(documenten)
    assert nep_gx.calls == 1


@pytest.mark.unit
def test_a_failure_between_meldingen_holds_back_the_part_instead_of_approving_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import nazorg.guard

    def alleen_samen(frame: Any) -> GuardVerdict:  # fails only while A and B are together
        ids = set(frame["melding_id"])
        bad = {"M-A", "M-B"} <= ids
        failures = (Failure("expect_compound_columns_to_be_unique", "melding_id,check_id"),) if bad else ()
        return GuardVerdict(passed=not bad, failures=failures, evaluated=22)

    monkeypatch.setattr(nazorg.guard, "validate_frame", alleen_samen)
    uitslag = bewaking.bewaak({m: _doc(m) for m in ("M-A", "M-B")})
    assert not uitslag.goedgekeurd and set(uitslag.tegengehouden) == {"M-A", "M-B"}


@pytest.mark.unit
def test_the_real_guard_blocks_free_text_row_by_row() -> None:
    goed = {f"EDM-{i:06d}": _doc(f"EDM-{i:06d}") for i in range(40)}
    goed["EDM-000017"] = _doc("EDM-000017", "Meneer de Vries van de GGZ, 06-12345678")
    uitslag = bewaking.bewaak(goed)
    assert set(uitslag.tegengehouden) == {"EDM-000017"}
    assert len(uitslag.goedgekeurd) == 39
    columns = {f.column for f in uitslag.tegengehouden["EDM-000017"]}
    assert "dossierverantwoordelijke" in columns
    assert all("Vries" not in str(f) for f in uitslag.tegengehouden["EDM-000017"])


# --------------------------------------------------------------------------- statements and bulk


@pytest.mark.unit
def test_statement_names_resolve_to_pipeline_or_a_named_folder() -> None:
    sql = SOURCE_ROOT / "sql"
    assert "FROM toestemming" in statement(sql, "toestemming_for")
    assert "melding_id IN :melding_ids" in statement(sql, "batch/toestemming_voor_meldingen")
    for bad in ("../pipeline/x", "batch/../x", "a/b/c", "/etc/passwd", "batch/"):
        with pytest.raises(ValueError):
            statement(sql, bad)


@pytest.mark.unit
def test_only_plain_inserts_of_bare_parameters_go_through_copy() -> None:
    sql = SOURCE_ROOT / "sql"
    plan = _copy_plan(sql, "verwerkingslog_insert")
    assert plan is not None and plan.table == "verwerkingslog" and not plan.rest
    upsert = _copy_plan(sql, "uitkomst_upsert")  # VALUES (..., :nu) for column bepaald_op
    assert upsert is not None and upsert.rest.startswith("ON CONFLICT")
    assert upsert.parameters[upsert.columns.index("bepaald_op")] == "nu"
    assert _copy_plan(sql, "inbox_set_status") is None  # an UPDATE: executemany


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgres", marks=pytest.mark.integration),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = (
        f"sqlite:///{tmp_path / 'p.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("fresh_postgres_db")
    )
    engine = make_engine(url)
    migrations.upgrade(engine)
    yield Store(engine, SOURCE_ROOT / "sql")
    engine.dispose()
    dispose_engines()


def _uitkomst(i: int, uitkomst: str = "ja") -> dict[str, Any]:
    return {
        "melding_id": f"M-{i:05d}",
        "check_id": "wmo_zorg",
        "aandachtsgebied": "zorg",
        "uitkomst": uitkomst,
        "dossierverantwoordelijke": "Team O'Brien",  # a quote, to prove the stream is not text-glued
        "contact_herkomst": "bron",
        "reden": None,
        "processing_activity_id": "wmo_zorg@v1",
        "nu": "2026-11-30T00:00:00.000+00:00",
        "pogingen": 1,
        "volgende_poging": None,
    }


def test_bulk_writes_every_row_and_keeps_the_files_conflict_rule(store: Store) -> None:
    seen: list[str] = []

    def statements(conn: Any, cursor: Any, stmt: str, *args: Any) -> None:
        seen.append(stmt)

    event.listen(store.engine, "before_cursor_execute", statements)
    try:
        with store.transaction() as conn:
            assert store.bulk("uitkomst_upsert", [_uitkomst(i) for i in range(3000)], conn=conn) == 3000
        with store.transaction() as conn:  # the same keys again: the file's ON CONFLICT updates them
            store.bulk("uitkomst_upsert", [_uitkomst(i, "nee") for i in range(10)], conn=conn)
            assert store.bulk("uitkomst_upsert", [], conn=conn) == 0
    finally:
        event.remove(store.engine, "before_cursor_execute", statements)
    with store.engine.connect() as conn:
        counts = dict(conn.execute(text("SELECT uitkomst, COUNT(*) FROM uitkomst GROUP BY uitkomst")).all())
        contacts = {
            r[0] for r in conn.execute(text("SELECT DISTINCT dossierverantwoordelijke FROM uitkomst"))
        }
    assert counts == {"ja": 2990, "nee": 10}
    assert contacts == {"Team O'Brien"}
    inserts = [s for s in seen if "INSERT INTO uitkomst" in s]
    if store.engine.dialect.name == "postgresql":
        # COPY (invisible to SQLAlchemy) into a temporary table, then one INSERT ... SELECT per call
        assert len(inserts) == 2 and all("SELECT" in s and "ON CONFLICT" in s for s in inserts)
    else:
        assert len(inserts) == 2  # one executemany per call


def test_bulk_inside_a_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.bulk("uitkomst_upsert", [_uitkomst(i) for i in range(50)], conn=conn)
        raise RuntimeError("afgebroken")
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM uitkomst")).scalar_one() == 0


def test_expanding_lists_bind_as_in(store: Store) -> None:
    store.execute(
        "toestemming_insert",
        [
            {
                "toestemming_id": f"t-{i}",
                "melding_id": f"M-{i}",
                "soort": "toestemming",
                "tekst_versie": "v1",
                "vastgelegd_door": "test",
                "vastgelegd_op": "2026-01-01T00:00:00.000+00:00",
                "geldig_tot": None,
            }
            for i in range(5)
        ],
    )
    store.execute(
        "toestemming_check_insert", [{"toestemming_id": f"t-{i}", "check_id": "huurschuld"} for i in range(5)]
    )
    rows = store.query(
        "batch/toestemming_voor_meldingen",
        {"melding_ids": ["M-1", "M-3", "M-9"], "peildatum": "2026-01-01"},
    )
    assert sorted(r["melding_id"] for r in rows) == ["M-1", "M-3"]


# --------------------------------------------------------------------------- processing log


@pytest.mark.unit
def test_bulk_records_equal_single_records_but_the_span_id() -> None:
    verwerkingen = [
        Verwerking("t" * 32, c, f"{c}@v1", bsn, "2026-01-01T00:00:00", "2026-01-01T00:00:01", ok)
        for c, bsn, ok in [
            ("wmo_zorg", "999000012", True),
            ("kinderen", "999000012", False),
            ("wmo_zorg", "999000024", True),
        ]
    ]
    bulk = records(verwerkingen, KEY)
    single = [record(v, KEY) for v in verwerkingen]
    assert [{k: v for k, v in r.items() if k != "span_id"} for r in bulk] == [
        {k: v for k, v in r.items() if k != "span_id"} for r in single
    ]
    assert len({r["span_id"] for r in bulk}) == 3
    with pytest.raises(ValueError):
        records(verwerkingen, b"kort")


# --------------------------------------------------------------------------- Parquet


def _rij(melding_id: str, gemeente: str, check_id: str = "wmo_zorg") -> dict[str, Any]:
    return {
        "melding_id": melding_id,
        "gemeente_code": gemeente,
        "besluit": "B-1",
        "register_versie": "2026.1",
        "aandachtsgebied": "zorg",
        "check_id": check_id,
        "uitkomst": "ja",
        "dossierverantwoordelijke": "Wmo-team",
        "reden": None,
        "versie": 1,
        "gepubliceerd_op": "2026-11-30T01:02:03.456+00:00",
    }


@pytest.mark.unit
def test_parquet_files_appear_only_when_placed_and_a_rerun_overwrites(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    root = tmp_path / "var" / "parquet"  # neither exists yet, as in a fresh checkout
    dag = date(2026, 11, 30)
    tijdelijk = parquet.schrijf_tijdelijk(root, "b-1-0001", dag, [_rij("M-1", "9901"), _rij("M-2", "9902")])
    assert not list(root.rglob("*.parquet"))  # nothing visible before the commit
    geplaatst = parquet.plaats(tijdelijk)
    assert sorted(p.relative_to(root).as_posix() for p in geplaatst) == [
        "gemeente_code=9901/datum=2026-11-30/b-1-0001.parquet",
        "gemeente_code=9902/datum=2026-11-30/b-1-0001.parquet",
    ]
    for p in geplaatst:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    for d in (root.parent, root, *(p.parent for p in geplaatst), *(p.parent.parent for p in geplaatst)):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    table = pq.read_table(geplaatst[0])
    assert table.schema.equals(parquet.SCHEMA, check_metadata=False)
    assert table.column("gepubliceerd_op").to_pylist() == [
        datetime(2026, 11, 30, 1, 2, 3, 456000, tzinfo=UTC)
    ]
    # a re-run overwrites; an abandoned run leaves nothing behind
    parquet.plaats(
        parquet.schrijf_tijdelijk(
            root, "b-1-0001", dag, [_rij("M-1", "9901"), _rij("M-1", "9901", "kinderen")]
        )
    )
    assert pq.read_table(geplaatst[0]).num_rows == 2
    parquet.ruim_op(parquet.schrijf_tijdelijk(root, "b-1-0002", dag, [_rij("M-3", "9901")]))
    assert sorted(p.name for p in root.rglob("*") if p.is_file()) == ["b-1-0001.parquet", "b-1-0001.parquet"]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("gemeente", "chunk_id"), [("99O1", "b-1"), ("9901", "../b"), ("9901", "b/1"), ("9901", "")]
)
def test_parquet_paths_take_only_our_codes_and_ids(tmp_path: Path, gemeente: str, chunk_id: str) -> None:
    with pytest.raises(ValueError):
        parquet.pad(tmp_path, gemeente, date(2026, 1, 1), chunk_id)

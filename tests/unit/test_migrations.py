"""Schema migrations of the pipeline DB: data survives, states are constrained, the store checks the revision.

Tests parametrised with ``empty_pipeline_engine`` run on SQLite (unit) and on
PostgreSQL (integration, ``fresh_postgres_db``).
"""

from __future__ import annotations

from enum import StrEnum
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from nazorg import migrations
from nazorg.models import (
    Aandachtsgebied,
    ChunkStatus,
    ContactHerkomst,
    DocumentStatus,
    Fase,
    Kanaal,
    LaatstedagStatus,
    MeldingStatus,
    NotificatieSoort,
    NotificatieStatus,
    OpschoonSoort,
    Reden,
    Soort,
    ToestemmingSoort,
    Uitkomst,
    Uitvoeren,
)
from nazorg.register import lees_activiteit_id
from nazorg.run_key import is_run_key, nieuwe_run_key
from nazorg.store import SchemaOutdated, Store

TABLES = (
    "inbox",
    "toestemming",
    "quarantaine",
    "plan",
    "uitkomst",
    "basisdocument",
    "outbox",
    "verwerkingslog",
)
BSN = "999990019"  # synthetic, passes the elfproef

# One valid row per table, as the code writes them; column order as in revision 0001.
ROWS: dict[str, dict[str, Any]] = {
    "inbox": {
        "melding_id": "EDM-000001",
        "bsn": BSN,
        "gemeente_code": "9901",
        "inrichting": "PI Ruimhaven",
        "datum_binnenkomst": "2026-01-02",
        "verwachte_einddatum": None,
        "reclassering_betrokken": "ja",
        "inhoud_hash": "abc",
        "status": "in_behandeling",
        "ontvangen_op": "2026-01-02T10:00:00.000+00:00",
        "bijgewerkt_op": "2026-01-02T10:00:01.000+00:00",
    },
    "toestemming": {"bsn": BSN, "check_id": "ggz_risicoprofiel", "soort": "toestemming", "geldig_tot": None},
    "quarantaine": {
        "quarantaine_id": "q1",
        "melding_id": "EDM-000002",
        "herkomst": "pipeline",
        "fase": "bewaak",
        "reden_code": "overcollectie",
        "veld": "extra",
        "expectation": "expect_table_columns_to_match_set",
        "geregistreerd_op": "2026-01-02T10:00:02.000+00:00",
    },
    "plan": {
        "melding_id": "EDM-000001",
        "check_id": "ggz_risicoprofiel",
        "aandachtsgebied": "zorg",
        "uitvoeren": "nee",
        "reden": "geen_toestemming",
    },
    "uitkomst": {
        "melding_id": "EDM-000001",
        "check_id": "ggz_risicoprofiel",
        "aandachtsgebied": "zorg",
        "uitkomst": "niet_uitgevoerd",
        "dossierverantwoordelijke": None,
        "reden": "geen_toestemming",
        "processing_activity_id": "ggz_risicoprofiel@v1",
        "bepaald_op": "2026-01-02T10:00:03.000+00:00",
    },
    "basisdocument": {
        "melding_id": "EDM-000001",
        "gemeente_code": "9901",
        "status": "goedgekeurd",
        "inhoud": '{"melding_id": "EDM-000001"}',
        "register_versie": "1",
        "bijgewerkt_op": "2026-01-02T10:00:04.000+00:00",
    },
    "outbox": {
        "melding_id": "EDM-000003",
        "gemeente_code": "9902",
        "inhoud": "{}",
        "bestand": "/tmp/x.json",
        "gepubliceerd_op": "2026-01-02T10:00:05.000+00:00",
    },
    "verwerkingslog": {
        "span_id": "s1",
        "trace_id": "t1",
        "name": "nazorg.check.ggz_risicoprofiel",
        "status_code": "OK",
        "start_time": "a",
        "end_time": "b",
        "resource_name": "nazorg-intake",
        "resource_version": "0.1.0",
        "processing_activity_id": "ggz_risicoprofiel@v1",
        "data_subject_id": "pseudo",
        "data_subject_id_type": "BSN",
    },
}
#: tables revision 0007 adds (not in ROWS: the revision-0001 round trips do not know them)
BATCH_ROWS: dict[str, dict[str, Any]] = {
    "batch_chunk": {
        "chunk_id": "b20260102100000-abcdef-0001",
        "batch_id": "b20260102100000-abcdef",
        "volgnummer": 1,
        "status": "open",
        "meldingen": 1,
        "aangemaakt_op": "2026-01-02T10:00:00.000+00:00",
        "klaar_op": None,
    },
    "batch_chunk_melding": {
        "chunk_id": "b20260102100000-abcdef-0001",
        "melding_id": "EDM-000001",
        "soort": "nieuw",
    },
}


#: consent as revision 0009 keeps it: per melding, the checks in their own table (ROWS has the
#: revision-0001 form: by BSN); ``_fill`` and ``_dump`` translate, so the round trips compare one form
ROWS_0009: dict[str, dict[str, Any]] = {
    "toestemming": {
        "toestemming_id": "t-1",
        "melding_id": "EDM-000001",
        "soort": "toestemming",
        "tekst_versie": "modelovereenkomst v1",
        "vastgelegd_door": "casemanager",
        "vastgelegd_op": "2026-01-02T10:00:00.000+00:00",
        "geldig_tot": None,
        "ingetrokken_op": None,
        "ingetrokken_door": None,
    },
    "toestemming_check": {"toestemming_id": "t-1", "check_id": "ggz_risicoprofiel"},
}
#: the revision-0001 view of consent at revision 0009 and later: BSN via the inbox, not withdrawn
TOESTEMMING_0001_VIEW = (
    "SELECT i.bsn, c.check_id, t.soort, t.geldig_tot FROM toestemming t "
    "JOIN toestemming_check c ON c.toestemming_id = t.toestemming_id "
    "JOIN inbox i ON i.melding_id = t.melding_id WHERE t.ingetrokken_op IS NULL ORDER BY 1, 2"
)


def _insert(engine: Any, table: str, row: dict[str, Any]) -> None:
    if table == "inbox" and "run_key" not in row and _has_column(engine, "inbox", "run_key"):
        row = {**row, "run_key": nieuwe_run_key()}  # from revision 0004 on, the inbox gives every melding one
    columns = ", ".join(row)
    values = ", ".join(f":{c}" for c in row)
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)


def _fill(engine: Any) -> None:
    for table, row in ROWS.items():
        if table == "toestemming" and _has_column(engine, "toestemming", "melding_id"):
            for new_table, new_row in ROWS_0009.items():  # the same consent, as 0009 keeps it
                _insert(engine, new_table, new_row)
        else:
            _insert(engine, table, row)


def _has_column(engine: Any, table: str, column: str) -> bool:
    return column in {c["name"] for c in inspect(engine).get_columns(table)}


def _dump(engine: Any) -> dict[str, list[dict[str, Any]]]:
    """Every row's revision-0001 columns: later revisions add columns (0004 random run keys, 0006
    key ids); what was there must stay. 0011 re-spells ``processing_activity_id`` as a URI of the
    same register version, so that column is compared as (check, versie)."""
    per_melding = _has_column(engine, "toestemming", "melding_id")
    with engine.connect() as conn:
        return {
            t: [
                _zelfde_activiteit(dict(r._mapping))
                for r in conn.execute(
                    text(
                        TOESTEMMING_0001_VIEW
                        if t == "toestemming" and per_melding
                        else f"SELECT {', '.join(ROWS[t])} FROM {t} ORDER BY 1, 2"
                    )
                )
            ]
            for t in TABLES
        }


def _zelfde_activiteit(row: dict[str, Any]) -> dict[str, Any]:
    if row.get("processing_activity_id") is not None:
        row["processing_activity_id"] = lees_activiteit_id(row["processing_activity_id"])
    return row


def _run_keys(engine: Any) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT run_key FROM inbox")).scalars())


def _revision(revision: str) -> ModuleType:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrations.alembic_config()).get_revision(revision)
    assert script is not None
    return script.module


# -- the history itself ----------------------------------------------------------------------


@pytest.mark.unit
def test_the_code_expects_the_scripts_head_and_the_history_is_linear() -> None:
    from alembic.script import ScriptDirectory

    assert migrations.script_head() == migrations.HEAD
    script = ScriptDirectory.from_config(migrations.alembic_config())
    chain = [s.revision for s in script.walk_revisions()]
    assert chain == [
        "0012",
        "0011",
        "0010",
        "0009",
        "0008",
        "0007",
        "0006",
        "0005",
        "0004",
        "0003",
        "0002",
        "0001",
    ]
    assert all(len(s.nextrev) <= 1 for s in script.walk_revisions())


@pytest.mark.unit
@pytest.mark.parametrize(
    ("revision", "frozen", "enum"),
    [
        ("0006", "MELDING_STATUS", MeldingStatus),  # 0006 adds mislukt
        ("0002", "DOCUMENT_STATUS", DocumentStatus),
        ("0007", "FASE", Fase),  # 0006 adds the step fases, 0007 batch
        ("0007", "CHUNK_STATUS", ChunkStatus),
        ("0007", "SOORT", Soort),
        ("0012", "CONTACT_HERKOMST", ContactHerkomst),
        ("0008", "LAATSTEDAG_STATUS", LaatstedagStatus),
        ("0008", "NOTIFICATIE_SOORT", NotificatieSoort),
        ("0008", "KANAAL", Kanaal),
        ("0008", "NOTIFICATIE_STATUS", NotificatieStatus),
        ("0010", "SOORT", OpschoonSoort),
        ("0009", "TOESTEMMING_SOORT", ToestemmingSoort),
        ("0002", "UITVOEREN", Uitvoeren),
        ("0002", "UITKOMST", Uitkomst),
        ("0005", "REDEN", Reden),  # the outcome's reasons; 0003 and 0005 widened them
        ("0002", "AANDACHTSGEBIED", Aandachtsgebied),
    ],
)
def test_the_constraints_hold_exactly_the_enum_values(
    revision: str, frozen: str, enum: type[StrEnum]
) -> None:
    """A new enum value needs a new revision that widens the CHECK constraint: this test says so."""
    assert set(getattr(_revision(revision), frozen)) == {e.value for e in enum}, (
        f"{enum.__name__} differs from revision {revision}'s {frozen}: "
        "write a migration that changes the constraint"
    )


@pytest.mark.unit
def test_a_plan_never_refuses_a_check_for_a_contact() -> None:
    """0003 widens only the outcome's reasons: the planner has no reason to name a contact."""
    assert set(_revision("0003").REDEN) - set(_revision("0002").REDEN) == {"contact_niet_in_besluit"}
    assert _revision("0003").REDEN_0002 == _revision("0002").REDEN


@pytest.mark.unit
def test_revision_5_widens_each_reden_constraint_from_where_it_was() -> None:
    """0005 adds the source-record reasons to both lists and keeps the contact reason off the plan."""
    r4 = _revision("0005")
    assert r4.REDEN_0002 == _revision("0002").REDEN
    assert r4.REDEN_0003 == _revision("0003").REDEN
    assert set(r4.PLAN_REDEN) == {e.value for e in Reden} - {Reden.CONTACT_NIET_IN_BESLUIT.value}
    assert set(r4.REDEN) - set(r4.REDEN_0003) == set(r4.PLAN_REDEN) - set(r4.REDEN_0002)


def test_revision_5_admits_the_source_record_reasons_and_refuses_to_go_back_over_them(
    empty_pipeline_engine: Any,
) -> None:
    engine = empty_pipeline_engine
    migrations.upgrade(engine, "0004")
    row = {**ROWS["uitkomst"], "uitkomst": "onbekend", "reden": "persoon_overleden"}
    with pytest.raises(IntegrityError):
        _insert(engine, "uitkomst", row)
    migrations.upgrade(engine, "0005")
    _insert(engine, "uitkomst", row)
    _insert(engine, "uitkomst", {**CONTACT_VERVANGEN})  # 0003's reason survives the rebuild
    _insert(engine, "plan", ROWS["plan"])  # the other constraints are still there after the rebuild
    _insert(engine, "plan", {**ROWS["plan"], "check_id": "y", "reden": "bron_in_onderzoek"})
    with pytest.raises(IntegrityError):
        _insert(engine, "plan", {**ROWS["plan"], "check_id": "x", "uitvoeren": "nee", "reden": None})
    with pytest.raises(IntegrityError):
        _insert(engine, "plan", {**ROWS["plan"], "check_id": "z", "reden": "contact_niet_in_besluit"})
    before = _dump(engine)
    with pytest.raises(IntegrityError):  # a row 0004 cannot hold: the downgrade stops, nothing lost
        migrations.downgrade(engine, "0004")
    assert migrations.current(engine) == "0005"
    assert _dump(engine) == before


# -- upgrading keeps data --------------------------------------------------------------------


def test_a_revision_1_database_with_data_upgrades_to_head_and_keeps_it(empty_pipeline_engine: Any) -> None:
    engine = empty_pipeline_engine
    assert migrations.upgrade(engine, "0001") == (None, "0001")
    _fill(engine)
    before = _dump(engine)
    assert all(before[t] for t in TABLES)

    assert migrations.upgrade(engine) == ("0001", migrations.HEAD)
    assert _dump(engine) == before
    assert all(is_run_key(k) for k in _run_keys(engine))  # existing meldingen got a run key
    assert "quarantaine_melding" in {i["name"] for i in inspect(engine).get_indexes("quarantaine")}
    assert "verwerkingslog_trace" in {i["name"] for i in inspect(engine).get_indexes("verwerkingslog")}
    Store(engine)  # the store accepts it now


def test_a_database_made_before_migrations_is_adopted(empty_pipeline_engine: Any) -> None:
    """The old Store ran schema.sql on first use and kept no version table; upgrading adopts its tables."""
    engine = empty_pipeline_engine
    migrations.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {migrations.VERSION_TABLE}"))
    _fill(engine)
    before = _dump(engine)
    assert migrations.current(engine) is None

    assert migrations.upgrade(engine) == (None, migrations.HEAD)
    assert _dump(engine) == before


def test_upgrade_is_idempotent(empty_pipeline_engine: Any) -> None:
    engine = empty_pipeline_engine
    assert migrations.upgrade(engine) == (None, migrations.HEAD)
    _fill(engine)
    assert migrations.upgrade(engine) == (migrations.HEAD, migrations.HEAD)
    assert _dump(engine)["inbox"] == [ROWS["inbox"]]


def test_down_to_revision_1_and_up_again(empty_pipeline_engine: Any) -> None:
    engine = empty_pipeline_engine
    migrations.upgrade(engine)
    _fill(engine)
    before = _dump(engine)
    assert migrations.downgrade(engine, "0001") == (migrations.HEAD, "0001")
    assert _dump(engine) == before
    with pytest.raises(SchemaOutdated):
        Store(engine)
    assert migrations.upgrade(engine) == ("0001", migrations.HEAD)
    assert _dump(engine) == before
    Store(engine)
    assert migrations.downgrade(engine, "base") == (migrations.HEAD, None)
    assert set(inspect(engine).get_table_names()) <= {migrations.VERSION_TABLE}


def test_a_failing_upgrade_leaves_the_database_as_it_was(empty_pipeline_engine: Any) -> None:
    """A state revision 0002 does not allow makes it fail; nothing is half-migrated."""
    engine = empty_pipeline_engine
    migrations.upgrade(engine, "0001")
    _fill(engine)
    _insert(engine, "inbox", {**ROWS["inbox"], "melding_id": "EDM-000009", "status": "zoek"})
    before = _dump(engine)
    with pytest.raises(IntegrityError):
        migrations.upgrade(engine)
    assert migrations.current(engine) == "0001"
    assert _dump(engine) == before
    assert not [t for t in inspect(engine).get_table_names() if t.startswith("_alembic_tmp")]


# -- impossible states are refused ------------------------------------------------------------

INVALID = [
    ("inbox", {"status": "klaar"}),
    ("inbox", {"status": "Geblokkeerd"}),
    ("quarantaine", {"fase": "elders"}),
    ("plan", {"uitvoeren": "misschien"}),
    ("plan", {"uitvoeren": "nee", "reden": None}),  # a refused check says why
    ("plan", {"uitvoeren": "ja", "reden": "geen_toestemming"}),
    ("plan", {"reden": "geen_zin"}),
    ("plan", {"aandachtsgebied": "wonen"}),
    ("uitkomst", {"uitkomst": "waarschijnlijk"}),
    ("uitkomst", {"uitkomst": "onbekend", "reden": None}),  # never an onbekend without a reason
    ("uitkomst", {"reden": "geen_zin"}),
    ("uitkomst", {"aandachtsgebied": "wonen"}),
    ("plan", {"reden": "contact_niet_in_besluit"}),  # only an outcome carries it
    ("basisdocument", {"status": "verzonden"}),
    ("batch_chunk", {"status": "bezig"}),
    ("batch_chunk_melding", {"soort": "opnieuw"}),
    ("toestemming", {"soort": "instemming"}),
    ("toestemming", {"ingetrokken_op": "2026-01-03T10:00:00.000+00:00"}),  # withdrawn by nobody
    ("toestemming", {"ingetrokken_door": "casemanager"}),  # a withdrawal without a moment
]


@pytest.mark.parametrize(
    ("table", "change"), INVALID, ids=[f"{t}-{'-'.join(map(str, c.values()))}" for t, c in INVALID]
)
def test_an_impossible_state_is_refused_by_the_database(
    empty_pipeline_engine: Any, table: str, change: dict[str, Any]
) -> None:
    engine = empty_pipeline_engine
    migrations.upgrade(engine)
    valid = {**ROWS, **BATCH_ROWS, **ROWS_0009}[table]
    with pytest.raises(IntegrityError):
        _insert(engine, table, {**valid, **change})
    _insert(engine, table, valid)  # the valid row is fine
    assignments = ", ".join(f"{column} = :{column}" for column in change)
    with pytest.raises(IntegrityError), engine.begin() as conn:  # and no update reaches it either
        conn.execute(text(f"UPDATE {table} SET {assignments}"), change)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text(f"SELECT {', '.join(valid)} FROM {table}"))]
    assert rows == [valid]


def test_every_enum_value_is_accepted(empty_pipeline_engine: Any) -> None:
    engine = empty_pipeline_engine
    migrations.upgrade(engine)
    for i, status in enumerate(MeldingStatus):
        _insert(engine, "inbox", {**ROWS["inbox"], "melding_id": f"M-{i}", "status": status.value})
        _insert(
            engine, "basisdocument", {**ROWS["basisdocument"], "melding_id": f"M-{i}", "status": "concept"}
        )
    for i, status in enumerate(DocumentStatus):
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE basisdocument SET status = :s WHERE melding_id = :m"),
                {"s": status, "m": f"M-{i}"},
            )
    for i, fase in enumerate(Fase):
        _insert(
            engine, "quarantaine", {**ROWS["quarantaine"], "quarantaine_id": f"q-{i}", "fase": fase.value}
        )
    for i, uitkomst in enumerate(Uitkomst):
        for j, reden in enumerate(Reden):
            _insert(
                engine,
                "uitkomst",
                {
                    **ROWS["uitkomst"],
                    "check_id": f"c-{i}-{j}",
                    "uitkomst": uitkomst.value,
                    "reden": reden.value,
                },
            )
    for i, gebied in enumerate(Aandachtsgebied):
        _insert(engine, "plan", {**ROWS["plan"], "check_id": f"c-{i}", "aandachtsgebied": gebied.value})
    _insert(
        engine, "plan", {**ROWS["plan"], "check_id": "c-ja", "uitvoeren": Uitvoeren.JA.value, "reden": None}
    )
    for i, status in enumerate(ChunkStatus):
        _insert(engine, "batch_chunk", {**BATCH_ROWS["batch_chunk"], "chunk_id": f"c-{i}", "status": status})
    for i, toestemming_soort in enumerate(ToestemmingSoort):
        _insert(
            engine,
            "toestemming",
            {**ROWS_0009["toestemming"], "toestemming_id": f"t-{i}", "soort": toestemming_soort.value},
        )
    for i, soort in enumerate(Soort):
        _insert(
            engine,
            "batch_chunk_melding",
            {**BATCH_ROWS["batch_chunk_melding"], "melding_id": f"M-{i}", "soort": soort.value},
        )


# -- the store refuses a database that is not at head ------------------------------------------


@pytest.mark.unit
def test_the_store_refuses_a_database_that_is_not_at_head(sqlite_url: str) -> None:
    from nazorg.store import dispose_engines, make_engine

    dispose_engines()
    engine = make_engine(sqlite_url)
    with pytest.raises(
        SchemaOutdated,
        match=rf"revisie geen, deze code verwacht {migrations.HEAD}: voer `nazorg db upgrade` uit",
    ):
        Store(engine)
    migrations.upgrade(engine, "0001")
    with pytest.raises(SchemaOutdated, match="revisie 0001"):
        Store(engine)
    migrations.upgrade(engine)
    Store(engine)
    migrations.downgrade(engine, "0001")  # a migration forgets the process's "at head" for this URL
    with pytest.raises(SchemaOutdated):
        Store(engine)
    engine.dispose()
    dispose_engines()


# -- revision 0003: a ja/nee whose contact the besluit does not list -----------------------------

CONTACT_VERVANGEN = {
    **ROWS["uitkomst"],
    "check_id": "schuld_cjib",
    "aandachtsgebied": "schulden",
    "uitkomst": "ja",
    "dossierverantwoordelijke": "Team Schuldhulpverlening Ruimhaven",
    "reden": "contact_niet_in_besluit",
}


def test_revision_3_allows_the_contact_reason_on_an_outcome_and_only_there(
    empty_pipeline_engine: Any,
) -> None:
    engine = empty_pipeline_engine
    migrations.upgrade(engine, "0002")
    with pytest.raises(IntegrityError):
        _insert(engine, "uitkomst", CONTACT_VERVANGEN)
    migrations.upgrade(engine)
    _insert(engine, "uitkomst", CONTACT_VERVANGEN)
    with pytest.raises(IntegrityError):
        _insert(engine, "plan", {**ROWS["plan"], "reden": "contact_niet_in_besluit"})
    before = _dump(engine)
    with pytest.raises(IntegrityError):  # going back would drop a state the data holds
        migrations.downgrade(engine, "0002")
    assert migrations.current(engine) == migrations.HEAD
    assert _dump(engine) == before


# -- revision 0004: run keys ------------------------------------------------------------------


def test_meldingen_already_in_the_inbox_get_distinct_run_keys(empty_pipeline_engine: Any) -> None:
    engine = empty_pipeline_engine
    migrations.upgrade(engine, "0002")
    for i in range(5):
        _insert(engine, "inbox", {**ROWS["inbox"], "melding_id": f"EDM-99900{i}-01"})
    migrations.upgrade(engine)
    keys = _run_keys(engine)
    assert len(keys) == len(set(keys)) == 5
    assert all(is_run_key(k) and not any(ch.isdigit() for ch in k) for k in keys)


def test_a_run_key_is_unique_and_required(empty_pipeline_engine: Any) -> None:
    engine = empty_pipeline_engine
    migrations.upgrade(engine)
    key = nieuwe_run_key()
    _insert(engine, "inbox", {**ROWS["inbox"], "run_key": key})
    with pytest.raises(IntegrityError):
        _insert(engine, "inbox", {**ROWS["inbox"], "melding_id": "EDM-000002", "run_key": key})
    with pytest.raises(IntegrityError):
        _insert(engine, "inbox", {**ROWS["inbox"], "melding_id": "EDM-000003", "run_key": None})


# -- revision 0006: failed runs and key ids ---------------------------------------------------


def test_revision_6_records_the_key_id_and_allows_failed_runs(empty_pipeline_engine: Any) -> None:
    """Old log records keep no key id (NULL), new ones may; ``mislukt`` and the step fases are allowed."""
    engine = empty_pipeline_engine
    migrations.upgrade(engine, "0005")
    _fill(engine)
    with pytest.raises(IntegrityError):
        _insert(engine, "inbox", {**ROWS["inbox"], "melding_id": "M-x", "status": "mislukt"})
    migrations.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT sleutel_id FROM verwerkingslog")).scalars().all() == [None]
    _insert(engine, "verwerkingslog", {**ROWS["verwerkingslog"], "span_id": "s2", "sleutel_id": "0123abcd"})
    _insert(engine, "inbox", {**ROWS["inbox"], "melding_id": "M-x", "status": "mislukt"})
    _insert(engine, "quarantaine", {**ROWS["quarantaine"], "quarantaine_id": "q-x", "fase": "plan"})
    with pytest.raises(IntegrityError):  # a downgrade cannot narrow the constraint over a failed melding
        migrations.downgrade(engine, "0005")
    assert migrations.current(engine) == migrations.HEAD


# -- revision 0007: the batch path ------------------------------------------------------------


def test_revision_7_adds_claims_retries_and_versions_with_defaults_for_existing_rows(
    empty_pipeline_engine: Any,
) -> None:
    """Existing rows get no claim, no attempts yet, no retry due and version 1; the old data stays."""
    engine = empty_pipeline_engine
    migrations.upgrade(engine, "0006")
    _fill(engine)
    before = _dump(engine)
    migrations.upgrade(engine)
    assert _dump(engine) == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT claim, claim_tot FROM inbox")).all() == [(None, None)]
        assert conn.execute(text("SELECT pogingen, volgende_poging FROM uitkomst")).all() == [(0, None)]
        assert conn.execute(text("SELECT versie FROM outbox")).all() == [(1,)]
    assert is_run_key(_run_keys(engine)[0])  # the inbox keeps its run keys (and their unique index)
    with pytest.raises(IntegrityError):
        _insert(engine, "inbox", {**ROWS["inbox"], "melding_id": "M-2", "run_key": _run_keys(engine)[0]})
    _insert(engine, "quarantaine", {**ROWS["quarantaine"], "quarantaine_id": "q-b", "fase": "batch"})
    for table, row in BATCH_ROWS.items():
        _insert(engine, table, row)
    with pytest.raises(IntegrityError):  # one row per melding per chunk
        _insert(engine, "batch_chunk_melding", BATCH_ROWS["batch_chunk_melding"])
    with pytest.raises(IntegrityError):  # a downgrade cannot narrow the fase over a batch row
        migrations.downgrade(engine, "0006")
    assert migrations.current(engine) == migrations.HEAD
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM quarantaine WHERE fase = 'batch'"))
    migrations.downgrade(engine, "0006")
    assert _dump(engine) == before
    assert "batch_chunk" not in inspect(engine).get_table_names()


# -- 0011: processing_activity_id as a URI, the foreign operation -------------------------------


def test_revision_11_rewrites_activity_ids_as_uris_and_back(
    empty_pipeline_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Old ``<id>@v<n>`` rows become ``<NAZORG_REGISTER_URI><id>/v<n>`` (the base configured at upgrade);
    the foreign-operation columns appear empty; a downgrade restores the old spelling exactly."""
    from nazorg.settings import reload_settings

    monkeypatch.setenv("NAZORG_REGISTER_URI", "https://avg.ruimhaven.example/register/")
    reload_settings()
    engine = empty_pipeline_engine
    migrations.upgrade(engine, "0008")
    _fill(engine)
    migrations.upgrade(engine, "0011")
    with engine.connect() as conn:
        for tabel in ("verwerkingslog", "uitkomst"):
            (waarde,) = conn.execute(text(f"SELECT processing_activity_id FROM {tabel}")).one()
            assert waarde == "https://avg.ruimhaven.example/register/ggz_risicoprofiel/v1"
        rij = conn.execute(
            text(
                "SELECT foreign_trace_id, foreign_span_id, foreign_entity, request_span_id"
                " FROM verwerkingslog"
            )
        ).one()
    assert tuple(rij) == (None, None, None, None)
    migrations.downgrade(engine, "0008")
    assert not _has_column(engine, "verwerkingslog", "foreign_span_id")
    with engine.connect() as conn:
        for tabel in ("verwerkingslog", "uitkomst"):
            (waarde,) = conn.execute(text(f"SELECT processing_activity_id FROM {tabel}")).one()
            assert waarde == "ggz_risicoprofiel@v1"
    monkeypatch.delenv("NAZORG_REGISTER_URI")
    reload_settings()


# -- revision 0009: consent per melding ---------------------------------------------------------

OTHER_BSN = "999990020"  # synthetic; no melding in the inbox
SECOND_BSN = "999990032"


def _rows(engine: Any, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_revision_9_carries_bsn_keyed_consent_over_to_every_melding_of_that_bsn(
    empty_pipeline_engine: Any,
) -> None:
    """An old row becomes consent of each melding of its BSN; a BSN without a melding is dropped;
    the toestemming tables hold no BSN any more; the downgrade restores the old rows."""
    engine = empty_pipeline_engine
    migrations.upgrade(engine, "0008")
    _insert(engine, "inbox", ROWS["inbox"])
    _insert(engine, "inbox", {**ROWS["inbox"], "melding_id": "EDM-000002"})  # the same person again
    _insert(engine, "inbox", {**ROWS["inbox"], "melding_id": "EDM-000003", "bsn": SECOND_BSN})
    old = [
        {"bsn": BSN, "check_id": "huurschuld", "soort": "toestemming", "geldig_tot": None},
        {"bsn": BSN, "check_id": "uitkering_voorschot", "soort": "toestemming", "geldig_tot": None},
        {"bsn": SECOND_BSN, "check_id": "huurschuld", "soort": "overeenkomst", "geldig_tot": "2027-01-01"},
        {"bsn": SECOND_BSN, "check_id": "uitkering_voorschot", "soort": "overeenkomst", "geldig_tot": None},
        {"bsn": OTHER_BSN, "check_id": "huurschuld", "soort": "toestemming", "geldig_tot": None},
    ]
    for row in old:
        _insert(engine, "toestemming", row)

    migrations.upgrade(engine, "0009")
    assert migrations.current(engine) == "0009"
    consent = _rows(
        engine,
        "SELECT t.melding_id, t.soort, t.geldig_tot, c.check_id, t.tekst_versie, t.vastgelegd_door, "
        "t.vastgelegd_op, t.ingetrokken_op FROM toestemming t "
        "JOIN toestemming_check c ON c.toestemming_id = t.toestemming_id ORDER BY 1, 4",
    )
    van_voor = _revision("0009").VAN_VOOR_0009
    ontvangen = ROWS["inbox"]["ontvangen_op"]
    assert consent == [
        ("EDM-000001", "toestemming", None, "huurschuld", van_voor, van_voor, ontvangen, None),
        ("EDM-000001", "toestemming", None, "uitkering_voorschot", van_voor, van_voor, ontvangen, None),
        ("EDM-000002", "toestemming", None, "huurschuld", van_voor, van_voor, ontvangen, None),
        ("EDM-000002", "toestemming", None, "uitkering_voorschot", van_voor, van_voor, ontvangen, None),
        ("EDM-000003", "overeenkomst", "2027-01-01", "huurschuld", van_voor, van_voor, ontvangen, None),
        ("EDM-000003", "overeenkomst", None, "uitkering_voorschot", van_voor, van_voor, ontvangen, None),
    ]
    # one consent per melding, soort and geldig_tot: EDM-000003 has two (different geldig_tot)
    assert _rows(engine, "SELECT melding_id, COUNT(*) FROM toestemming GROUP BY melding_id ORDER BY 1") == [
        ("EDM-000001", 1),
        ("EDM-000002", 1),
        ("EDM-000003", 2),
    ]
    for table in ("toestemming", "toestemming_check"):
        columns = {c["name"] for c in inspect(engine).get_columns(table)}
        assert "bsn" not in columns
        dump = str(_rows(engine, f"SELECT * FROM {table}"))
        assert not any(b in dump for b in (BSN, SECOND_BSN, OTHER_BSN))
    migrations.upgrade(engine)
    Store(engine)

    # a withdrawn consent does not go back: the old table could not say so
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE toestemming SET ingetrokken_op = 'x', ingetrokken_door = 'y' "
                "WHERE melding_id = 'EDM-000002'"
            )
        )
    migrations.downgrade(engine, "0008")
    back = _rows(engine, "SELECT bsn, check_id, soort, geldig_tot FROM toestemming ORDER BY 1, 2")
    assert back == [(r["bsn"], r["check_id"], r["soort"], r["geldig_tot"]) for r in old[:4]]
    migrations.upgrade(engine)  # and up again: names do not collide with what the round trip left
    assert len(_rows(engine, "SELECT * FROM toestemming_check")) == 6


# -- 0012: where an outcome's contact comes from ----------------------------------------------


def test_revision_12_adds_contact_herkomst_empty_for_existing_outcomes_and_drops_it_again(
    empty_pipeline_engine: Any,
) -> None:
    """Stored outcomes survive with NULL herkomst (nobody recorded it); the closed list and the
    contact rule hold; a downgrade drops the column and keeps the rows."""
    engine = empty_pipeline_engine
    migrations.upgrade(engine, "0011")
    _fill(engine)
    met_contact = {
        **ROWS["uitkomst"],
        "check_id": "schuld_cjib",
        "aandachtsgebied": "schulden",
        "uitkomst": "ja",
        "dossierverantwoordelijke": "Team Schulden",
        "reden": None,
    }
    _insert(engine, "uitkomst", met_contact)
    before = _dump(engine)
    migrations.upgrade(engine, "0012")
    assert _dump(engine) == before
    assert _rows(engine, "SELECT check_id, contact_herkomst FROM uitkomst ORDER BY check_id") == [
        ("ggz_risicoprofiel", None),
        ("schuld_cjib", None),
    ]
    for waarde in ContactHerkomst:
        _insert(
            engine, "uitkomst", {**met_contact, "check_id": f"c-{waarde}", "contact_herkomst": waarde.value}
        )
    with pytest.raises(IntegrityError):  # a closed list
        _insert(engine, "uitkomst", {**met_contact, "check_id": "c-x", "contact_herkomst": "gemeente"})
    with pytest.raises(IntegrityError):  # an origin without a contact
        _insert(engine, "uitkomst", {**ROWS["uitkomst"], "check_id": "c-y", "contact_herkomst": "standaard"})
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM uitkomst WHERE check_id LIKE 'c-%'"))
    migrations.downgrade(engine, "0011")
    assert not _has_column(engine, "uitkomst", "contact_herkomst")
    assert _dump(engine) == before

"""Retention, inzage and erasure against a real pipeline DB (SQLite, and PostgreSQL where it runs).

A small world of hand-made rows at known ages, so every expectation is written
out row by row: which outcome, plan row, document, file and Parquet row is
gone after a run on the peildatum, and which stays. The pipeline-made world
(realistic rows through the real steps) is in tests/pipeline/test_bewaartermijn_pipeline.py.

Consent rows use revision 0009's tables (``toestemming`` + ``toestemming_check``, keyed by melding id).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import text

from nazorg import migrations
from nazorg.batch import parquet
from nazorg.bewaartermijn import BewaarStart, Categorie, voer_uit
from nazorg.bsn import pseudonymise
from nazorg.rechten import als_markdown, verwijder, verzamel
from nazorg.settings import SOURCE_ROOT, Settings
from nazorg.sleutel import sleutel_id
from nazorg.store import Store
from tests.conftest import TEST_KEY

BSN_A = "999000007"  # two meldingen: A1 (old, released long ago), A2 (recent)
BSN_B = "999000019"  # one melding B1
BSN_ONBEKEND = "999000020"
PEILDATUM = date(2027, 6, 1)
NU = datetime(2027, 6, 1, 3, 0, tzinfo=UTC)
CHECKS = ("kort", "lang")  # kort: P3M from melding_ontvangen; lang: P1Y from laatstedagsmelding


def _register() -> Any:
    """A register stand-in: the fields retention reads (bewaartermijn_start as helper 'register' adds it)."""
    return SimpleNamespace(
        checks=[
            SimpleNamespace(id="kort", bewaartermijn="P3M", bewaartermijn_start="melding_ontvangen"),
            SimpleNamespace(id="lang", bewaartermijn="P1Y", bewaartermijn_start="laatstedagsmelding"),
        ]
    )


@dataclass
class Wereld:
    store: Store
    config: Settings
    outbox: Path

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        with self.store.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]

    def ids(self, table: str) -> set[str]:
        return {r[0] for r in self.rows(f"SELECT melding_id FROM {table}")}

    def paren(self, table: str) -> set[tuple[str, str]]:
        return {(r[0], r[1]) for r in self.rows(f"SELECT melding_id, check_id FROM {table}")}

    def parquet_ids(self) -> dict[str, list[str]]:
        import pyarrow.parquet as pq

        root = self.config.parquet_dir
        return {
            str(p.relative_to(root)): sorted(pq.read_table(p)["melding_id"].to_pylist())
            for p in sorted(root.rglob("*.parquet"))
        }


def _exec(conn: Any, sql: str, **params: Any) -> None:
    conn.execute(text(sql), params)


def _melding(
    conn: Any,
    wereld: Wereld,
    melding_id: str,
    bsn: str,
    gemeente: str,
    ontvangen: str,
    binnenkomst: str,
    verwacht: str | None,
    uitstroom: str | None,
) -> None:
    _exec(
        conn,
        "INSERT INTO inbox (melding_id, run_key, bsn, gemeente_code, inrichting, datum_binnenkomst, "
        "verwachte_einddatum, reclassering_betrokken, inhoud_hash, status, ontvangen_op, bijgewerkt_op) "
        "VALUES (:m, :k, :bsn, :g, 'PI Teststad', :b, :v, 'nee', :h, 'gepubliceerd', :o, :o)",
        m=melding_id,
        k="r-" + melding_id.lower().ljust(24, "x")[:24],
        bsn=bsn,
        g=gemeente,
        b=binnenkomst,
        v=verwacht,
        h=hashlib.sha256(melding_id.encode()).hexdigest(),
        o=ontvangen + "T08:00:00.000+00:00",
    )
    for check_id in CHECKS:
        _exec(
            conn,
            "INSERT INTO plan (melding_id, check_id, aandachtsgebied, uitvoeren, reden) "
            "VALUES (:m, :c, 'schulden', 'ja', NULL)",
            m=melding_id,
            c=check_id,
        )
        _exec(
            conn,
            "INSERT INTO uitkomst (melding_id, check_id, aandachtsgebied, uitkomst, "
            "dossierverantwoordelijke, reden, processing_activity_id, bepaald_op) "
            "VALUES (:m, :c, 'schulden', 'ja', 'Team Schulden', NULL, :pa, :o)",
            m=melding_id,
            c=check_id,
            pa=f"{check_id}@v1",
            o=ontvangen + "T09:00:00.000+00:00",
        )
        _exec(
            conn,
            "INSERT INTO verwerkingslog (span_id, trace_id, name, status_code, start_time, end_time, "
            "resource_name, resource_version, processing_activity_id, data_subject_id, data_subject_id_type, "
            "sleutel_id) VALUES (:s, 't', :n, 'OK', :o, :o, 'nazorg-intake', '0', :pa, :p, 'BSN', :sid)",
            s=f"{melding_id}-{check_id}",
            n=f"nazorg.check.{check_id}",
            o=ontvangen + "T09:00:00.000+00:00",
            pa=f"{check_id}@v1",
            p=pseudonymise(bsn, TEST_KEY.encode()),
            sid=sleutel_id(TEST_KEY.encode()),
        )
    inhoud = json.dumps({"melding_id": melding_id})
    _exec(
        conn,
        "INSERT INTO basisdocument (melding_id, gemeente_code, status, inhoud, register_versie, "
        "bijgewerkt_op) VALUES (:m, :g, 'gepubliceerd', :i, 't', :o)",
        m=melding_id,
        g=gemeente,
        i=inhoud,
        o=ontvangen,
    )
    bestand = wereld.outbox / gemeente / f"{melding_id}.json"
    bestand.parent.mkdir(parents=True, exist_ok=True)
    bestand.write_text(inhoud, encoding="utf-8")
    _exec(
        conn,
        "INSERT INTO outbox (melding_id, gemeente_code, inhoud, bestand, gepubliceerd_op) "
        "VALUES (:m, :g, :i, :f, :o)",
        m=melding_id,
        g=gemeente,
        i=inhoud,
        f=str(bestand),
        o=ontvangen,
    )
    if uitstroom:
        _exec(
            conn,
            "INSERT INTO laatstedagsmelding (melding_id, datum_uitstroom, gemeente_hervestiging, "
            "inhoud_hash, ontvangen_op, status) VALUES (:m, :d, :g, 'h', :d, 'verwerkt')",
            m=melding_id,
            d=uitstroom,
            g=gemeente,
        )
    _exec(
        conn,
        "INSERT INTO notificatie (notificatie_id, melding_id, soort, team_id, gemeente_code, kanaal, status, "
        "reden, verzonden_op) VALUES (:n, :m, 'inseinen', 'team-schulden', :g, 'bestand', 'verzonden', "
        "NULL, :o)",
        n=f"n-{melding_id}",
        m=melding_id,
        g=gemeente,
        o=ontvangen,
    )
    _exec(
        conn,
        "INSERT INTO toestemming (toestemming_id, melding_id, soort, tekst_versie, vastgelegd_door, "
        "vastgelegd_op, geldig_tot, ingetrokken_op, ingetrokken_door) "
        "VALUES (:t, :m, 'toestemming', 'v1', 'coordinator', :o, NULL, NULL, NULL)",
        t=f"t-{melding_id}",
        m=melding_id,
        o=ontvangen,
    )
    _exec(
        conn,
        "INSERT INTO toestemming_check (toestemming_id, check_id) VALUES (:t, 'lang')",
        t=f"t-{melding_id}",
    )
    _exec(
        conn,
        "INSERT INTO quarantaine (quarantaine_id, melding_id, herkomst, fase, reden_code, veld, expectation, "
        "geregistreerd_op) VALUES (:q, :m, 'test', 'check', 'bron_fout', NULL, NULL, :o)",
        q=f"q-{melding_id}",
        m=melding_id,
        o=ontvangen + "T10:00:00.000+00:00",
    )


#: (melding_id, bsn, gemeente, ontvangen_op, datum_binnenkomst, verwachte_einddatum, datum_uitstroom)
MELDINGEN = (
    # all terms run: kort 2025-04-10, lang 2025-06-01 + P1Y = 2026-06-01
    ("A1", BSN_A, "9901", "2025-01-10", "2025-01-08", None, "2025-06-01"),
    # kort run (2026-04-05); lang: no laatstedagsmelding, no verwachte_einddatum:
    # datum_binnenkomst 2026-01-01 + P2Y = 2028-01-01, + P1Y = 2029-01-01
    ("A2", BSN_A, "9901", "2026-01-05", "2026-01-01", None, None),
    # kort run (2027-04-15); lang from verwachte_einddatum 2027-12-01 + P1Y
    ("B1", BSN_B, "9901", "2027-01-15", "2027-01-14", "2027-12-01", None),
    # nothing run: kort 2027-08-20
    ("C1", "999000032", "9902", "2027-05-20", "2027-05-19", "2027-09-01", None),
    # kort run; lang from datum_uitstroom 2026-07-01 + P1Y = 2027-07-01, not yet
    ("D1", "999000044", "9902", "2025-02-01", "2025-01-30", "2025-06-01", "2026-07-01"),
)


def _parquet(wereld: Wereld) -> None:
    """Two chunks' files as the batch writes them: chunk-1 holds A1 and B1 (9901) and C1 (9902)."""
    rijen = []
    for melding_id, gemeente in (("A1", "9901"), ("B1", "9901"), ("C1", "9902"), ("A2", "9901")):
        for check_id in CHECKS:
            rijen.append(
                {
                    "melding_id": melding_id,
                    "gemeente_code": gemeente,
                    "besluit": "b",
                    "register_versie": "t",
                    "aandachtsgebied": "schulden",
                    "check_id": check_id,
                    "uitkomst": "ja",
                    "dossierverantwoordelijke": "Team Schulden",
                    "reden": None,
                    "versie": 1,
                    "gepubliceerd_op": "2027-01-20T00:00:00.000+00:00",
                }
            )
    root = wereld.config.parquet_dir
    parquet.plaats(parquet.schrijf_tijdelijk(root, "chunk-1", date(2027, 1, 20), rijen[:6]))
    # chunk-2 holds only A2 (9901): B... and an A1-only file that must disappear entirely
    parquet.plaats(parquet.schrijf_tijdelijk(root, "chunk-2", date(2026, 1, 6), rijen[6:]))
    alleen_a1 = [{**r, "gepubliceerd_op": "2025-02-01T00:00:00.000+00:00"} for r in rijen[:2]]
    parquet.plaats(parquet.schrijf_tijdelijk(root, "chunk-0", date(2025, 2, 1), alleen_a1))


@pytest.fixture
def wereld(empty_pipeline_engine: Any, tmp_path: Path) -> Iterator[Wereld]:
    engine = empty_pipeline_engine
    migrations.upgrade(engine)
    config = Settings.for_project(
        SOURCE_ROOT,
        outbox_dir=tmp_path / "outbox",
        parquet_dir=tmp_path / "parquet",
        pseudonym_key_raw=TEST_KEY,
    )
    w = Wereld(Store(engine, config.sql_dir), config, tmp_path / "outbox")
    with engine.begin() as conn:
        for m in MELDINGEN:
            _melding(conn, w, *m)
        # a quarantine row of the intake, no melding (refused record), old enough to go
        _exec(
            conn,
            "INSERT INTO quarantaine (quarantaine_id, melding_id, herkomst, fase, reden_code, veld, "
            "expectation, geregistreerd_op) VALUES ('q-intake', NULL, 'x', 'intake', 'bsn_elfproef', "
            "'bsn', NULL, '2026-05-31T23:59:59.000+00:00')",
        )
        # a processing-log record old enough for its own term (P5Y): ended before 2022-06-01
        _exec(
            conn,
            "INSERT INTO verwerkingslog (span_id, trace_id, name, status_code, start_time, end_time, "
            "resource_name, resource_version, processing_activity_id, data_subject_id, data_subject_id_type, "
            "sleutel_id) VALUES ('oud', 't', 'nazorg.check.lang', 'OK', '2022-05-31T10:00:00.000+00:00', "
            "'2022-05-31T10:00:00.000+00:00', 'nazorg-intake', '0', 'lang@v1', 'ander', 'BSN', 'anders')",
        )
    _parquet(w)
    yield w


ALLE_PAREN = {(m[0], c) for m in MELDINGEN for c in CHECKS}


def test_retention_deletes_exactly_what_is_due_and_nothing_else(wereld: Wereld) -> None:
    rapport = voer_uit(wereld.store, _register(), wereld.config, nu=NU, peildatum=PEILDATUM)

    # per check: kort of A1, A2, B1, D1 (all run); lang of A1 only (with the whole melding)
    weg = {("A1", "kort"), ("A1", "lang"), ("A2", "kort"), ("B1", "kort"), ("D1", "kort")}
    assert wereld.paren("uitkomst") == ALLE_PAREN - weg
    assert wereld.paren("plan") == ALLE_PAREN - weg
    # per melding: only A1's every term has run
    rest = {"A2", "B1", "C1", "D1"}
    for table in ("basisdocument", "outbox", "notificatie", "toestemming"):
        assert wereld.ids(table) == rest, table
    assert {r[0] for r in wereld.rows("SELECT toestemming_id FROM toestemming_check")} == {
        f"t-{m}" for m in rest
    }
    assert wereld.ids("laatstedagsmelding") == {"D1"}  # A1's went with it
    # the inbox keeps A1 as a tombstone without BSN, detention data or content hash
    inbox = {
        r[0]: r[1:]
        for r in wereld.rows(
            "SELECT melding_id, bsn, inrichting, datum_binnenkomst, "
            "verwachte_einddatum, inhoud_hash, gemeente_code FROM inbox"
        )
    }
    assert set(inbox) == {"A1", *rest}
    assert inbox["A1"] == (None, None, None, None, "verwijderd", "9901")
    assert all(inbox[m][0] is not None for m in rest)
    # files: A1's JSON gone, the others' still there
    assert sorted(p.stem for p in wereld.outbox.rglob("*.json")) == sorted(rest)
    # Parquet: the A1-only file removed, chunk-1's 9901 file rewritten without A1, others untouched
    assert wereld.parquet_ids() == {
        "gemeente_code=9901/datum=2026-01-06/chunk-2.parquet": ["A2", "A2"],
        "gemeente_code=9901/datum=2027-01-20/chunk-1.parquet": ["B1", "B1"],
        "gemeente_code=9902/datum=2027-01-20/chunk-1.parquet": ["C1", "C1"],
    }
    herschreven = wereld.config.parquet_dir / "gemeente_code=9901/datum=2027-01-20/chunk-1.parquet"
    assert herschreven.stat().st_mode & 0o777 == 0o600
    assert not list(wereld.config.parquet_dir.rglob("*.tmp"))
    # quarantine by its own term (P1Y): A1 (2025-01-10), D1 (2025-02-01), A2 (2026-01-05), the
    # intake row (2026-05-31) are due; B1 (2027-01-15), C1 (2027-05-20) stay
    assert {r[0] for r in wereld.rows("SELECT quarantaine_id FROM quarantaine")} == {"q-B1", "q-C1"}
    # processing log by its own term (P5Y): only the record of 2022-05-31
    assert len(wereld.rows("SELECT span_id FROM verwerkingslog")) == 2 * len(MELDINGEN)
    assert wereld.rows("SELECT span_id FROM verwerkingslog WHERE span_id = 'oud'") == []

    t = rapport.tellingen
    assert t[Categorie.UITKOMST] == t[Categorie.PLAN] == 5
    assert t[Categorie.BASISDOCUMENT] == t[Categorie.OUTBOX] == t[Categorie.OUTBOX_BESTAND] == 1
    assert t[Categorie.PARQUET_RIJ] == 4
    assert t[Categorie.PARQUET_BESTAND_HERSCHREVEN] == t[Categorie.PARQUET_BESTAND_VERWIJDERD] == 1
    assert t[Categorie.TOESTEMMING] == t[Categorie.TOESTEMMING_CHECK] == t[Categorie.NOTIFICATIE] == 1
    assert t[Categorie.LAATSTEDAGSMELDING] == t[Categorie.INBOX_BSN] == 1
    assert t[Categorie.QUARANTAINE] == 4
    assert t[Categorie.VERWERKINGSLOG] == 1
    assert t[Categorie.INBOX_GRAFSTEEN] == 0
    # the bookkeeping: counts per category, no ids
    runs = wereld.rows("SELECT run_id, soort, peildatum, droog FROM bewaartermijn_run")
    assert runs == [(rapport.run_id, "bewaartermijn", "2027-06-01", "nee")]
    tellingen = dict(wereld.rows("SELECT categorie, aantal FROM bewaartermijn_telling"))
    assert tellingen == {c.value: n for c, n in t.items()}

    # the same day again: nothing more is due
    again = voer_uit(wereld.store, _register(), wereld.config, nu=NU, peildatum=PEILDATUM)
    assert again.totaal == 0
    # the tombstone goes once the processing log's term (P5Y) has run since it was made (NU)
    dag = datetime(2032, 5, 31, 3, 0, tzinfo=UTC)  # tombstones made today wait their own P5Y
    later = voer_uit(wereld.store, _register(), wereld.config, nu=dag, peildatum=dag.date())
    assert later.tellingen[Categorie.INBOX_GRAFSTEEN] == 0
    assert "A1" in wereld.ids("inbox")
    later = voer_uit(wereld.store, _register(), wereld.config, nu=dag, peildatum=date(2032, 6, 1))
    assert later.tellingen[Categorie.INBOX_GRAFSTEEN] == 1
    assert "A1" not in wereld.ids("inbox")


def _snapshot(wereld: Wereld) -> dict[str, Any]:
    tables = (
        "inbox", "plan", "uitkomst", "basisdocument", "outbox", "laatstedagsmelding", "notificatie",
        "toestemming", "toestemming_check", "quarantaine", "verwerkingslog", "batch_chunk_melding",
    )  # fmt: skip
    data: dict[str, Any] = {t: sorted(map(str, wereld.rows(f"SELECT * FROM {t}"))) for t in tables}
    for root in (wereld.outbox, wereld.config.parquet_dir):
        for path in sorted(root.rglob("*")):
            if path.is_file():
                data[str(path)] = (hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mode)
    return data


def test_a_dry_run_deletes_nothing_and_reports_what_a_real_run_deletes(wereld: Wereld) -> None:
    voor = _snapshot(wereld)
    droog = voer_uit(wereld.store, _register(), wereld.config, nu=NU, peildatum=PEILDATUM, droog=True)
    assert _snapshot(wereld) == voor
    assert droog.totaal > 0
    assert wereld.rows("SELECT droog FROM bewaartermijn_run") == [("ja",)]
    echt = voer_uit(wereld.store, _register(), wereld.config, nu=NU, peildatum=PEILDATUM)
    assert droog.tellingen == echt.tellingen
    assert _snapshot(wereld) != voor


def test_inzage_finds_every_row_of_the_person_and_nothing_of_others(wereld: Wereld) -> None:
    inzage = verzamel(wereld.store, wereld.config, BSN_A)
    assert inzage.melding_ids == ["A1", "A2"]
    for rows, table in (
        (inzage.plan, "plan"),
        (inzage.uitkomsten, "uitkomst"),
        (inzage.basisdocumenten, "basisdocument"),
        (inzage.outbox, "outbox"),
        (inzage.notificaties, "notificatie"),
        (inzage.quarantaine, "quarantaine"),
        (inzage.laatstedagsmeldingen, "laatstedagsmelding"),
    ):
        assert {r["melding_id"] for r in rows} <= {"A1", "A2"}, table
        held = wereld.rows(f"SELECT COUNT(*) FROM {table} WHERE melding_id IN ('A1', 'A2')")[0][0]
        assert len(rows) == held, table
    assert {r["melding_id"] for r in inzage.toestemmingen or []} == {"A1", "A2"}
    assert len(inzage.verwerkingslog) == 4  # two checks of two meldingen, under the current key
    assert inzage.verwerkingslog_andere_sleutel == 1  # the record under key 'anders'
    assert sorted(n for _, n in inzage.parquet) == [2, 2, 2]  # A1 in chunk-0 and chunk-1, A2 in chunk-2
    document = als_markdown(inzage, NU)
    assert "## Uitkomsten van de controles" in document
    assert "| A1 |" in document and "| A2 |" in document
    assert "B1" not in document and "C1" not in document
    assert BSN_A not in document and BSN_B not in document
    assert pseudonymise(BSN_A, TEST_KEY.encode()) not in document
    assert not verzamel(wereld.store, wereld.config, BSN_ONBEKEND).gevonden


def _dump(wereld: Wereld, exclude: tuple[str, ...] = ()) -> str:
    from sqlalchemy import inspect

    with wereld.store.engine.connect() as conn:
        tables = [t for t in inspect(conn).get_table_names() if t not in exclude]
    return "\n".join(str(wereld.rows(f"SELECT * FROM {t}")) for t in tables)


def test_erasure_leaves_nothing_of_the_person_but_what_a_retention_duty_keeps(wereld: Wereld) -> None:
    van_b = {
        t: wereld.rows(f"SELECT * FROM {t} WHERE melding_id = 'B1'") for t in ("uitkomst", "plan", "outbox")
    }
    parquet_voor = wereld.parquet_ids()
    uitslag = verwijder(wereld.store, wereld.config, BSN_A, nu=NU)
    assert uitslag is not None

    pseudoniem = pseudonymise(BSN_A, TEST_KEY.encode())
    assert BSN_A not in _dump(wereld)
    assert pseudoniem not in _dump(wereld, exclude=("verwerkingslog",))
    # kept: the processing log (accountability) and the tombstones, each with the policy's reason
    assert len(wereld.rows("SELECT 1 FROM verwerkingslog WHERE data_subject_id = :p", p=pseudoniem)) == 4
    assert set(uitslag.bewaard) == {Categorie.VERWERKINGSLOG, Categorie.INBOX_GRAFSTEEN}
    assert uitslag.bewaard[Categorie.VERWERKINGSLOG][0] == 4
    assert "art. 5 lid 2" in uitslag.bewaard[Categorie.VERWERKINGSLOG][1]
    assert "Bewaard, en waarom" in uitslag.als_tekst()
    for table in ("uitkomst", "plan", "basisdocument", "outbox", "laatstedagsmelding", "notificatie",
                  "toestemming", "quarantaine"):  # fmt: skip
        assert not wereld.ids(table) & {"A1", "A2"}, table
    assert sorted(p.stem for p in wereld.outbox.rglob("*.json")) == ["B1", "C1", "D1"]
    assert all("A1" not in ids and "A2" not in ids for ids in wereld.parquet_ids().values())
    # nothing of anyone else
    assert {t: wereld.rows(f"SELECT * FROM {t} WHERE melding_id = 'B1'") for t in van_b} == van_b
    assert (
        wereld.parquet_ids()["gemeente_code=9902/datum=2027-01-20/chunk-1.parquet"]
        == parquet_voor["gemeente_code=9902/datum=2027-01-20/chunk-1.parquet"]
    )
    assert wereld.rows("SELECT soort, droog FROM bewaartermijn_run") == [("verwijderverzoek", "nee")]
    # a second request finds only what was kept: the processing log, under the pseudonym
    assert verzamel(wereld.store, wereld.config, BSN_A).melding_ids == []
    assert verwijder(wereld.store, wereld.config, BSN_ONBEKEND, nu=NU) is None


def test_a_register_without_bewaartermijn_start_counts_from_the_laatstedagsmelding(wereld: Wereld) -> None:
    """Until helper 'register' adds the field: the default start is laatstedagsmelding (the later one)."""
    register = SimpleNamespace(
        checks=[
            SimpleNamespace(id="kort", bewaartermijn="P3M"),
            SimpleNamespace(id="lang", bewaartermijn="P1Y"),
        ]
    )
    rapport = voer_uit(wereld.store, register, wereld.config, nu=NU, peildatum=PEILDATUM)
    # kort now runs from the end of detention: A1 (2025-06-01 + P3M) and D1 (2026-07-01 + P3M) only
    assert wereld.paren("uitkomst") == ALLE_PAREN - {("A1", "kort"), ("A1", "lang"), ("D1", "kort")}
    assert rapport.tellingen[Categorie.INBOX_BSN] == 1
    assert BewaarStart.LAATSTEDAGSMELDING.value == "laatstedagsmelding"


def test_a_melding_that_never_finished_is_closed_when_it_becomes_a_tombstone(wereld: Wereld) -> None:
    """The batch claims ontvangen/in_behandeling meldingen: a tombstone without BSN must not be one."""
    with wereld.store.engine.begin() as conn:
        _exec(conn, "UPDATE inbox SET status = 'ontvangen' WHERE melding_id IN ('A1', 'B1')")
    voer_uit(wereld.store, _register(), wereld.config, nu=NU, peildatum=PEILDATUM)
    status = dict(wereld.rows("SELECT melding_id, status FROM inbox WHERE melding_id IN ('A1', 'B1')"))
    assert status == {"A1": "mislukt", "B1": "ontvangen"}  # B1's terms have not all run


def test_retention_and_erasure_log_counts_per_category_and_no_identity(
    wereld: Wereld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    voer_uit(wereld.store, _register(), wereld.config, nu=NU, peildatum=PEILDATUM)
    verwijder(wereld.store, wereld.config, BSN_B, nu=NU)
    tekst = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("nazorg"))
    assert "uitkomst 5" in tekst and "verwijderverzoek" in tekst
    for identiteit in ("A1", "A2", "B1", "C1", "D1", BSN_A, BSN_B, pseudonymise(BSN_B, TEST_KEY.encode())):
        assert identiteit not in tekst

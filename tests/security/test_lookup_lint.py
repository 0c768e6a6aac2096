"""`nazorg register check` catches bad lookups; `--probe` checks them against their real source.

Attack reproduced (issue class 12): the register check accepted a lookup with an extra column,
one without ``:bsns``, one calling ``pg_sleep`` and one reading the pipeline DB (which holds the
inbox). Each class is refused now, in both dialects, with a message that names the rule and the
file but never quotes the SQL (a query may hold a literal value).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from nazorg import cli
from nazorg.register import Lookup, RegisterError, load_policy
from nazorg.settings import SOURCE_ROOT
from nazorg.sources.lookup_lint import (
    DIALECTEN,
    LookupOngeldig,
    keur_goed,
    lint,
    probe,
    zelfde_database,
)
from nazorg.store import dispose_engines, make_engine
from nazorg_dev.sim.bronnen import vul_bronnen
from nazorg_dev.sim.population import population

GOED = "SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke FROM cjib_vorderingen WHERE bsn IN :bsns"
SECRET_LITERAL = "999000007"  # a synthetic BSN, as a literal a query could hold

BAD: dict[str, tuple[str, str]] = {
    "extra column": (
        "SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke, openstaand_bedrag "
        "FROM cjib_vorderingen WHERE bsn IN :bsns",
        "kolommen",
    ),
    "columns in another order": (
        "SELECT bsn, team AS dossierverantwoordelijke, 1 AS bekend FROM t WHERE bsn IN :bsns",
        "kolommen",
    ),
    "select star": ("SELECT * FROM cjib_vorderingen WHERE bsn IN :bsns", "kolommen"),
    "select t.star": ("SELECT c.* FROM cjib_vorderingen c WHERE c.bsn IN :bsns", "kolommen"),
    "without :bsns": ("SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke FROM t", "bsns_ontbreekt"),
    ":bsns only in a comment": (
        "-- WHERE bsn IN :bsns\nSELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke FROM t",
        "bsns_ontbreekt",
    ),
    ":bsns or-ed away": (GOED + " OR 1 = 1", "bsns_niet_in_where"),
    ":bsns negated": (GOED.replace("bsn IN :bsns", "bsn NOT IN :bsns"), "bsns_niet_in_where"),
    ":bsns on another column": (GOED.replace("WHERE bsn IN", "WHERE ander_nummer IN"), "bsn_kolom"),
    "another parameter": (GOED + " AND team = :team", "parameter"),
    "pg_sleep": (GOED + " AND pg_sleep(10) IS NOT NULL", "functie_verboden"),
    "pg_sleep schema-qualified and quoted": (
        GOED + ' AND pg_catalog."PG_SLEEP"(10) IS NULL',
        "functie_verboden",
    ),
    "pg_read_file": (GOED.replace("team AS", "pg_read_file('/etc/passwd') AS"), "functie_verboden"),
    "lo_import": (GOED + " AND lo_import('/etc/passwd') > 0", "functie_verboden"),
    "dblink": (GOED.replace("team AS", "dblink('host=x', 'select 1') AS"), "functie_verboden"),
    "set_config": (GOED + " AND set_config('role', 'postgres', true) IS NOT NULL", "functie_verboden"),
    "current_setting": (GOED.replace("team AS", "current_setting('data_directory') AS"), "functie_verboden"),
    "version": (GOED.replace("team AS", "version() AS"), "functie_verboden"),
    "query_to_xml": (
        GOED.replace("team AS", "query_to_xml('select 1', true, true, '') AS"),
        "functie_verboden",
    ),
    "load_extension": (GOED + " AND load_extension('x') IS NULL", "functie_verboden"),
    "readfile": (GOED.replace("team AS", "readfile('/etc/passwd') AS"), "functie_verboden"),
    "a user-defined function": (GOED.replace("team AS", "mijn_functie(team) AS"), "functie_onbekend"),
    "a system catalog": (
        "SELECT bsn, 1 AS bekend, usename AS dossierverantwoordelijke "
        "FROM pg_catalog.pg_user WHERE bsn IN :bsns",
        "systeemtabel",
    ),
    "sqlite_master": (
        "SELECT bsn, 1 AS bekend, sql AS dossierverantwoordelijke FROM sqlite_master WHERE bsn IN :bsns",
        "systeemtabel",
    ),
    "a subquery as contact": (
        GOED.replace("team AS", "(SELECT naam FROM clienten LIMIT 1) AS"),
        "subquery_in_kolom",
    ),
    "two statements": (GOED + "; DELETE FROM cjib_vorderingen", "een_statement"),
    "no statement": ("-- nothing", "een_statement"),
    "a delete in a CTE": (
        "WITH weg AS (DELETE FROM cjib_vorderingen RETURNING *) "
        "SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke FROM weg WHERE bsn IN :bsns",
        "schrijft",
    ),
    "select into": (GOED.replace(" FROM", " INTO kopie FROM"), "schrijft"),
    "for update": (GOED + " FOR UPDATE", "schrijft"),
    "union": (GOED + " UNION " + GOED, "alleen_select"),
    "copy": ("COPY cjib_vorderingen TO STDOUT", "alleen_select"),
    "update": ("UPDATE cjib_vorderingen SET team = 'x' WHERE bsn IN :bsns", "alleen_select"),
    "not SQL": ("SELEKT bsn FRM t", "sql_onleesbaar"),
}


@pytest.mark.unit
@pytest.mark.parametrize("dialect", sorted(DIALECTEN))
@pytest.mark.parametrize(("sql", "regel"), BAD.values(), ids=BAD.keys())
def test_each_bad_lookup_class_is_refused(sql: str, regel: str, dialect: str) -> None:
    found = lint(sql, dialect)
    assert regel in {b.regel for b in found}, [(b.regel, b.uitleg) for b in found]


@pytest.mark.unit
@pytest.mark.parametrize("dialect", sorted(DIALECTEN))
def test_a_refusal_never_quotes_the_sql(dialect: str) -> None:
    sql = (
        "SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke, "
        f"'{SECRET_LITERAL}' AS \"{SECRET_LITERAL}\" "
        f"FROM t WHERE bsn IN :bsns AND pg_sleep(1) IS NULL AND bsn <> '{SECRET_LITERAL}'"
    )
    found = lint(sql, dialect) + lint(f"SELECT '{SECRET_LITERAL}", dialect)  # unterminated: unreadable
    assert {"kolommen", "functie_verboden", "sql_onleesbaar"} <= {b.regel for b in found}
    assert SECRET_LITERAL not in " ".join(b.uitleg for b in found)


@pytest.mark.unit
@pytest.mark.parametrize("dialect", sorted(DIALECTEN))
def test_the_shipped_lookups_pass(dialect: str) -> None:
    queries = sorted((SOURCE_ROOT / "sql" / "lookups").glob("*.sql"))
    assert queries
    for path in queries:
        assert lint(path.read_text(encoding="utf-8"), dialect) == [], path.name


@pytest.mark.unit
def test_a_well_formed_lookup_with_a_join_and_known_functions_passes() -> None:
    sql = (
        "SELECT d.bsn, CASE WHEN COUNT(*) > 0 THEN 1 ELSE 0 END AS bekend, "
        "COALESCE(MAX(t.naam), 'Team Schulden') AS dossierverantwoordelijke "
        "FROM dossiers d LEFT JOIN teams t ON t.id = d.team_id "
        "WHERE (d.bsn IN :bsns AND d.status = 'open') AND d.einddatum IS NULL GROUP BY d.bsn"
    )
    for dialect in DIALECTEN:
        assert lint(sql, dialect) == []


# -- the register check -------------------------------------------------------------------------


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    for part in ("register", "sql", "expectations"):
        shutil.copytree(SOURCE_ROOT / part, project / part)
    return project


ISSUE_CASES = {
    "extra column": BAD["extra column"][0],
    "without :bsns": BAD["without :bsns"][0],
    "pg_sleep": BAD["pg_sleep"][0],
}


@pytest.mark.unit
@pytest.mark.parametrize("sql", ISSUE_CASES.values(), ids=ISSUE_CASES.keys())
def test_register_check_refuses_the_issues_lookups(
    sql: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    (project / "sql" / "lookups" / "schuld_cjib.sql").write_text(sql, encoding="utf-8")
    assert cli.main(["register", "check", str(project)]) == 1
    err = capsys.readouterr().err
    assert "besluit 9901: schuld_cjib: lookups/schuld_cjib.sql: postgresql:" in err
    assert "besluit 9901: schuld_cjib: lookups/schuld_cjib.sql: sqlite:" in err
    assert "FROM" not in err  # names and rules, no SQL


@pytest.mark.unit
def test_register_check_refuses_a_lookup_against_the_pipeline_db(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    besluit = project / "register" / "besluiten" / "9901-ruimhaven.yaml"
    text_ = besluit.read_text(encoding="utf-8")
    besluit.write_text(
        text_.replace(
            "lookup: {verbinding: nazorg_bronnen, query: lookups/schuld_cjib.sql}",
            "lookup: {verbinding: NAZORG_DB, query: lookups/schuld_cjib.sql}",
        ),
        encoding="utf-8",
    )
    assert cli.main(["register", "check", str(project)]) == 1
    assert "schuld_cjib: lookup via de pipeline-DB (NAZORG_DB) is verboden" in capsys.readouterr().err


@pytest.mark.unit
def test_a_besluit_may_name_its_dialect_and_is_linted_in_that_one_only(tmp_path: Path) -> None:
    project = _project(tmp_path)
    # PostgreSQL's ILIKE is not SQLite; with the dialect named, only PostgreSQL judges it
    (project / "sql" / "lookups" / "schuld_cjib.sql").write_text(
        GOED + " AND team ILIKE 'team%'", encoding="utf-8"
    )
    besluit = project / "register" / "besluiten" / "9901-ruimhaven.yaml"
    besluit.write_text(
        besluit.read_text(encoding="utf-8").replace(
            "lookup: {verbinding: nazorg_bronnen, query: lookups/schuld_cjib.sql}",
            "lookup: {verbinding: nazorg_bronnen, query: lookups/schuld_cjib.sql, dialect: postgresql}",
        ),
        encoding="utf-8",
    )
    policy = load_policy(project / "register", project / "sql")
    lookup = policy.besluit("9901").checks["schuld_cjib"].lookup
    assert lookup is not None and lookup.dialect == "postgresql"
    (project / "sql" / "lookups" / "schuld_cjib.sql").write_text(BAD["pg_sleep"][0], encoding="utf-8")
    with pytest.raises(RegisterError, match=r"schuld_cjib\.sql: postgresql: functie pg_sleep is verboden"):
        load_policy(project / "register", project / "sql")


# -- at run time: the real connection -----------------------------------------------------------


@pytest.fixture
def bronnen_file(tmp_path: Path) -> Path:
    path = tmp_path / "bronnen.db"
    engine = make_engine(f"sqlite:///{path}")
    vul_bronnen(engine, population(), 1)
    engine.dispose()
    return path


@pytest.mark.unit
def test_at_run_time_a_lookup_on_the_pipeline_db_is_refused_by_id_and_by_address(
    tmp_path: Path, bronnen_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(f"sqlite:///{bronnen_file}")
    try:
        with pytest.raises(LookupOngeldig) as caught:
            keur_goed("schuld_cjib", Lookup(verbinding="nazorg_db", query="lookups/x.sql"), GOED, engine)
        assert caught.value.regel == "pipeline_db"
        # another id, the same file as the pipeline DB (through a symlink, even)
        link = tmp_path / "alias.db"
        link.symlink_to(bronnen_file)
        monkeypatch.setenv("AIRFLOW_CONN_NAZORG_DB", f"sqlite:///{link}")
        with pytest.raises(LookupOngeldig) as caught:
            keur_goed("schuld_cjib", Lookup(verbinding="nazorg_bronnen", query="lookups/x.sql"), GOED, engine)
        assert caught.value.regel == "pipeline_db"
        monkeypatch.setenv("AIRFLOW_CONN_NAZORG_DB", f"sqlite:///{tmp_path / 'nazorg.db'}")
        keur_goed("schuld_cjib", Lookup(verbinding="nazorg_bronnen", query="lookups/x.sql"), GOED, engine)
    finally:
        engine.dispose()


@pytest.mark.unit
def test_at_run_time_the_connections_dialect_judges_and_must_match_the_besluit(bronnen_file: Path) -> None:
    engine = make_engine(f"sqlite:///{bronnen_file}")
    try:
        lookup = Lookup(verbinding="nazorg_bronnen", query="lookups/x.sql", dialect="postgresql")
        with pytest.raises(LookupOngeldig) as caught:
            keur_goed("schuld_cjib", lookup, GOED, engine)
        assert caught.value.regel == "dialect"
        with pytest.raises(LookupOngeldig, match=r"\(sqlite\): functie pg_sleep is verboden"):
            keur_goed(
                "schuld_cjib", Lookup(verbinding="b", query="lookups/x.sql"), BAD["pg_sleep"][0], engine
            )
    finally:
        engine.dispose()


@pytest.mark.unit
def test_same_database_detection() -> None:
    pg = "postgresql+psycopg://nazorg:geheim@db.example.nl:5432/nazorg"
    assert zelfde_database(pg, "postgresql+psycopg://lezer:anders@db.example.nl/nazorg?sslmode=require")
    assert not zelfde_database(pg, "postgresql+psycopg://nazorg@db.example.nl:5432/bronnen")
    assert not zelfde_database(pg, "postgresql+psycopg://nazorg@andere-host:5432/nazorg")
    assert not zelfde_database(pg, "sqlite:////tmp/nazorg")
    assert not zelfde_database("sqlite://", "sqlite://")  # two in-memory databases


# -- probe ---------------------------------------------------------------------------------------


def _probe_all(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        return {
            path.name: probe(engine, path.read_text(encoding="utf-8"))
            for path in sorted((SOURCE_ROOT / "sql" / "lookups").glob("*.sql"))
        }
    finally:
        engine.dispose()


@pytest.mark.unit
def test_probe_on_sqlite_passes_the_shipped_lookups_and_catches_a_query_that_ignores_bsns(
    bronnen_file: Path,
) -> None:
    url = f"sqlite:///{bronnen_file}"
    for name, uitslag in _probe_all(url).items():
        assert uitslag.problemen == (), name
        assert [n for n, _ in uitslag.kolommen] == ["bsn", "bekend", "dossierverantwoordelijke"]
    engine = make_engine(url)
    try:
        # past the rules (its WHERE is a tautology in disguise), but it returns rows for no BSN at all
        leaky = GOED.replace("WHERE bsn IN :bsns", "WHERE bsn IN :bsns OR 1 = 1")
        assert any("beperkt niet op :bsns" in p for p in probe(engine, leaky).problemen)
        extra = probe(engine, BAD["extra column"][0])
        assert any("verwacht bsn, bekend, dossierverantwoordelijke" in p for p in extra.problemen)
        failing = probe(engine, GOED.replace("cjib_vorderingen", "bestaat_niet"))
        assert failing.problemen == ("de query faalt (OperationalError)",)
    finally:
        engine.dispose()


@pytest.mark.unit
def test_probe_runs_read_only_on_sqlite(bronnen_file: Path) -> None:
    url = f"sqlite:///{bronnen_file}"
    engine = make_engine(url)
    try:
        uitslag = probe(engine, "DELETE FROM cjib_vorderingen WHERE bsn IN :bsns OR 1 = 1 RETURNING bsn")
        assert uitslag.problemen and "faalt" in uitslag.problemen[0]
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM cjib_vorderingen")).scalar_one() > 0
    finally:
        engine.dispose()


@pytest.mark.integration
def test_probe_on_postgresql_reports_real_types_and_runs_read_only(fresh_postgres_db: str) -> None:
    engine = make_engine(fresh_postgres_db)
    vul_bronnen(engine, population(), 1)
    engine.dispose()
    for name, uitslag in _probe_all(fresh_postgres_db).items():
        assert uitslag.problemen == (), name
        assert uitslag.kolommen == (("bsn", "text"), ("bekend", "int4"), ("dossierverantwoordelijke", "text"))
    engine = make_engine(fresh_postgres_db)
    try:
        wrong_types = probe(
            engine,
            "SELECT CAST(bsn AS bigint) AS bsn, 'ja' AS bekend, team AS dossierverantwoordelijke "
            "FROM cjib_vorderingen WHERE bsn IN :bsns",
        )
        assert any("kolom bsn heeft type int8" in p for p in wrong_types.problemen)
        assert any("kolom bekend heeft type" in p for p in wrong_types.problemen)
        writing = probe(engine, "DELETE FROM cjib_vorderingen WHERE bsn IN :bsns OR true RETURNING bsn")
        assert writing.problemen == ("de query faalt (ReadOnlySqlTransaction, SQLSTATE 25006)",)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM cjib_vorderingen")).scalar_one() > 0
    finally:
        engine.dispose()
        dispose_engines()


@pytest.mark.integration
def test_register_check_probe_on_sqlite(
    tmp_path: Path, bronnen_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_BRONNEN", f"sqlite:///{bronnen_file}")
    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_DB", f"sqlite:///{tmp_path / 'nazorg.db'}")
    dispose_engines()
    assert cli.main(["register", "check", "--probe"]) == 0
    out = capsys.readouterr().out
    assert "probe lookups/schuld_cjib.sql via nazorg_bronnen (9901 schuld_cjib), sqlite: in orde" in out
    assert out.count(": in orde (bsn") == len(list((SOURCE_ROOT / "sql" / "lookups").glob("*.sql")))

    # the source connection is really the pipeline DB: refused before anything runs
    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_DB", f"sqlite:///{bronnen_file}")
    assert cli.main(["register", "check", "--probe"]) == 1
    assert "dit is de pipeline-DB" in capsys.readouterr().err

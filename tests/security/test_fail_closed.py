"""Fail closed: a weak or missing key stops a run before any source is asked; no failure leaves a
melding half-done; no outcome is stored without its processing-log record.

Attacks reproduced (issue "make the privacy promise hold against an attacker", classes 10 and 11):

- a missing key used to fail only after the outcomes were stored, with no log record for the
  sources already asked; sixteen identical characters were accepted as a key;
- a lookup whose query ignores ``:bsns`` crashed its task and left the melding
  ``in_behandeling`` with outcomes staged and no quarantine row.

The in-process worlds here use SQLite and a recording fake for the sources unless a test needs
the real SQL adapter (then the simulated bronnen in a SQLite file).
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import shutil
import string
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from nazorg import cli, migrations, pipeline
from nazorg.bsn import pseudonymise
from nazorg.checks import Geval
from nazorg.connections import http_connection_json
from nazorg.inbox import dien_in, run_key_voor
from nazorg.intake import beoordeel_alle, herkomst_voor, nieuwe_inzending
from nazorg.models import (
    Aandachtsgebied,
    CheckResult,
    ContactHerkomst,
    DocumentStatus,
    MeldingStatus,
    Uitkomst,
)
from nazorg.processing_log import Verwerking, record, trace_id_for
from nazorg.settings import PSEUDONYM_KEY_ENV, PSEUDONYM_KEY_FILE_ENV, SOURCE_ROOT, Settings, SettingsError
from nazorg.sleutel import beoordeel, genereer, sleutel_id, sterkte_bits
from nazorg.sources.answer import Antwoord
from nazorg.sources.kinds import SourceAdapter, Vraag
from nazorg.store import Store, dispose_engines, engine_for, make_engine, now
from nazorg.wiring import Runtime, build
from nazorg_dev.sim.bronnen import vul_bronnen
from nazorg_dev.sim.meldingen import meldingen
from nazorg_dev.sim.population import population
from tests.conftest import TEST_KEY
from tests.documenten import geldig_document

TRACE = trace_id_for("fail-closed")

# -- key rules ----------------------------------------------------------------------------------

WEAK_KEYS = {
    "16 identical chars (the issue's example)": "k" * 16,
    "32 identical chars": "k" * 32,
    "64 identical hex digits": "0" * 64,
    "the old test key": "test-pseudoniem-sleutel-niet-geheim",
    "a repeated hex pattern": "deadbeef" * 8,
    "a hex run": "0123456789abcdef" * 4,
    "an alphabet run": "abcdefghijklmnopqrstuvwxyz012345",
    "a repeated password": "Password1234567890Password123456",
    "a repeated season": "Zomer2026!Zomer2026!Zomer2026!Zomer2026!",
    "a Dutch sentence": "Mijn geheime sleutel voor het nazorg pseudoniem 2026",
    "a passphrase": "correct horse battery staple and more words",
    "16 random bytes as hex (too short)": "3f9c2a7be1d04c6f8a5b9e2d7c1f0a43",
    "short random text": "x7Kp2mQ9vR4tL8wZ",
}


@pytest.mark.unit
@pytest.mark.parametrize("key", WEAK_KEYS.values(), ids=WEAK_KEYS.keys())
def test_a_weak_key_is_refused_without_being_repeated(key: str) -> None:
    config = Settings.for_project(SOURCE_ROOT, pseudonym_key_raw=key)
    with pytest.raises(SettingsError) as caught:
        config.pseudonym_key()
    assert caught.value.setting == PSEUDONYM_KEY_ENV
    assert PSEUDONYM_KEY_ENV in str(caught.value)
    assert key not in str(caught.value) and key[:8] not in str(caught.value)


def _random_text(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


STRONG_KEYS: dict[str, Callable[[], str]] = {
    "nazorg sleutel genereer": genereer,
    "openssl rand -hex 32": lambda: secrets.token_hex(32),
    "openssl rand -base64 32": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
    "base64url of 32 bytes": lambda: secrets.token_urlsafe(32),
    "40 random letters and digits": lambda: _random_text(string.ascii_letters + string.digits, 40),
    "32 random printable characters": lambda: _random_text(
        string.ascii_letters + string.digits + string.punctuation, 32
    ),
}


@pytest.mark.unit
@pytest.mark.parametrize("make", STRONG_KEYS.values(), ids=STRONG_KEYS.keys())
def test_a_generated_key_is_accepted_every_time(make: Callable[[], str]) -> None:
    """Not one refusal in 200 fresh keys of each kind a deployment would generate."""
    refused = [why for why in (beoordeel(make()) for _ in range(200)) if why is not None]
    assert refused == []


@pytest.mark.unit
def test_the_test_key_is_strong_and_its_text_is_the_hmac_key() -> None:
    key = Settings.for_project(SOURCE_ROOT, pseudonym_key_raw=TEST_KEY).pseudonym_key()
    assert key == TEST_KEY.encode()  # never a decoding: pseudonyms do not change with the rule
    assert sterkte_bits(TEST_KEY) >= 128


@pytest.mark.unit
def test_a_missing_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="ontbreekt"):
        Settings.for_project(SOURCE_ROOT).pseudonym_key()
    with pytest.raises(SettingsError, match="niet leesbaar"):
        Settings.for_project(SOURCE_ROOT, pseudonym_key_file=tmp_path / "geen").pseudonym_key()


@pytest.mark.unit
def test_a_weak_key_in_a_file_is_refused_naming_the_file_variable(tmp_path: Path) -> None:
    path = tmp_path / "sleutel"
    path.write_text("k" * 16 + "\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        Settings.for_project(SOURCE_ROOT, pseudonym_key_file=path).pseudonym_key()
    assert caught.value.setting == PSEUDONYM_KEY_FILE_ENV
    path.write_text(TEST_KEY + "\n", encoding="utf-8")
    assert Settings.for_project(SOURCE_ROOT, pseudonym_key_file=path).pseudonym_key() == TEST_KEY.encode()


@pytest.mark.unit
def test_a_short_key_passed_in_directly_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        pseudonymise("999000007", b"k" * 16)


@pytest.mark.unit
def test_the_key_id_names_a_key_without_revealing_it() -> None:
    a, b = TEST_KEY.encode(), genereer().encode()
    assert sleutel_id(a) == sleutel_id(a) and len(sleutel_id(a)) == 16
    assert sleutel_id(a) != sleutel_id(b)
    assert sleutel_id(a) not in TEST_KEY


@pytest.mark.unit
def test_sleutel_genereer_and_controleer(capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    assert cli.main(["sleutel", "genereer"]) == 0
    key = capsys.readouterr().out.strip()
    assert len(key) == 64 and beoordeel(key) is None

    from nazorg.settings import reload_settings

    monkeypatch.setenv(PSEUDONYM_KEY_ENV, key)
    reload_settings()
    assert cli.main(["sleutel", "controleer"]) == 0
    out = capsys.readouterr().out
    assert sleutel_id(key.encode()) in out and key not in out

    monkeypatch.setenv(PSEUDONYM_KEY_ENV, "k" * 16)
    reload_settings()
    assert cli.main(["sleutel", "controleer"]) == 1
    assert "k" * 16 not in capsys.readouterr().err


# -- worlds --------------------------------------------------------------------------------------


class _Nee(SourceAdapter):
    """Answers nee to every question and writes down which check asked."""

    kind = "opnemer"

    def __init__(self, gevraagd: list[str], fout: Exception | None) -> None:
        super().__init__(Settings.for_project(SOURCE_ROOT))
        self._gevraagd = gevraagd
        self._fout = fout

    def answer(self, vraag: Vraag, gevallen: Sequence[Geval]) -> dict[str, Antwoord]:
        self._gevraagd.append(vraag.entry.id)
        if self._fout is not None:
            raise self._fout
        return {g.melding_id: Antwoord.nee() for g in gevallen}


class Opnemer:
    """Sources that record every question; ``fout`` makes every adapter raise it (a bug)."""

    def __init__(self) -> None:
        self.gevraagd: list[str] = []
        self.fout: Exception | None = None

    def adapter(self, kind: str) -> SourceAdapter:
        return _Nee(self.gevraagd, self.fout)

    def factory(self) -> Any:
        return lambda: contextlib.nullcontext(self)


def _store(tmp_path: Path, config: Settings) -> Store:
    engine = make_engine(f"sqlite:///{tmp_path / 'nazorg.db'}")
    migrations.upgrade(engine)
    return Store(engine, config.sql_dir)


def _runtime(
    tmp_path: Path,
    *,
    key: str | None = TEST_KEY,
    store: Store | None = None,
    sources: Any = None,
    project: Path = SOURCE_ROOT,
) -> Runtime:
    config = Settings.for_project(project, outbox_dir=tmp_path / "outbox", pseudonym_key_raw=key)
    return build(config, store=store or _store(tmp_path, config), sources=sources)


def _submit(rt: Runtime, gemeente: str = "9901") -> tuple[str, str]:
    """One synthetic melding of ``gemeente`` in the inbox; returns (melding id, bsn)."""
    record_ = next(r for r in meldingen(40, offset=300) if r["gemeente_code"] == gemeente)
    inzending = nieuwe_inzending()
    gemeenten = rt.policy.melding_velden()
    judged = beoordeel_alle([(herkomst_voor(inzending, 1), record_)], gemeenten, date.today())
    dien_in(rt.store, judged, inzending=inzending)
    return str(record_["melding_id"]), str(record_["bsn"])


def _key(store: Store, melding_id: str) -> str:
    """The run key the inbox gave the melding: what the steps (and Airflow) know it by."""
    run_key = run_key_voor(store, melding_id)
    assert run_key is not None
    return run_key


def _count(store: Store, table: str, melding_id: str) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text(f"SELECT COUNT(*) FROM {table} WHERE melding_id = :m"), {"m": melding_id}
            ).scalar_one()
        )


def _log_rows(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text("SELECT * FROM verwerkingslog"))]


def _status(store: Store, melding_id: str) -> str:
    return str(store.query("inbox_get", {"melding_id": melding_id})[0]["status"])


def _quarantined(store: Store, melding_id: str) -> set[tuple[str, str, str | None]]:
    return {
        (q["fase"], q["reden_code"], q["veld"])
        for q in store.query("quarantaine_list")
        if q["melding_id"] == melding_id
    }


def assert_closed(store: Store, melding_id: str, fase: str, reden_code: str) -> None:
    """Terminal (mislukt), quarantined with the reason, nothing staged."""
    assert _status(store, melding_id) == MeldingStatus.MISLUKT
    assert (fase, reden_code) in {(f, r) for f, r, _ in _quarantined(store, melding_id)}
    for table in ("uitkomst", "plan", "basisdocument", "outbox"):
        assert _count(store, table, melding_id) == 0, table


# -- a weak or lost key stops the run before any source is asked --------------------------------


@pytest.mark.pipeline
def test_a_run_with_a_weak_key_fails_at_ontvang_before_any_source_is_asked(tmp_path: Path) -> None:
    bronnen = Opnemer()
    rt = _runtime(tmp_path, key="k" * 16, sources=bronnen.factory())
    melding_id, _ = _submit(rt)
    run_key = _key(rt.store, melding_id)

    with pytest.raises(pipeline.StapMislukt, match="configuratie_ongeldig") as caught:
        pipeline.ontvang(rt, run_key)
    assert "k" * 16 not in str(caught.value)
    assert_closed(rt.store, melding_id, "ontvang", "configuratie_ongeldig")
    assert ("ontvang", "configuratie_ongeldig", PSEUDONYM_KEY_ENV) in _quarantined(rt.store, melding_id)

    # the later tasks of the run refuse as well, and nobody asks a source
    with pytest.raises(pipeline.Geblokkeerd, match="mislukt"):
        pipeline.plan(rt, run_key)
    for gebied in Aandachtsgebied:
        with pytest.raises(pipeline.StapMislukt, match="configuratie_ongeldig"):
            pipeline.voer_checks_uit(rt, run_key, gebied, TRACE)
    assert bronnen.gevraagd == []
    assert _log_rows(rt.store) == []
    assert_closed(rt.store, melding_id, "ontvang", "configuratie_ongeldig")


@pytest.mark.pipeline
def test_a_key_lost_between_tasks_fails_the_check_before_any_source_is_asked(tmp_path: Path) -> None:
    """ontvang and plan ran with the key; the check task's process has none."""
    bronnen = Opnemer()
    good = _runtime(tmp_path, sources=bronnen.factory())
    melding_id, _ = _submit(good)
    run_key = _key(good.store, melding_id)
    pipeline.ontvang(good, run_key)
    pipeline.plan(good, run_key)
    assert _count(good.store, "uitkomst", melding_id) > 0  # plan staged its niet_uitgevoerd outcomes

    keyless = _runtime(tmp_path, key=None, store=good.store, sources=bronnen.factory())
    with pytest.raises(pipeline.StapMislukt, match="configuratie_ongeldig"):
        pipeline.voer_checks_uit(keyless, run_key, Aandachtsgebied.SCHULDEN, TRACE)
    assert bronnen.gevraagd == []
    assert_closed(good.store, melding_id, "check", "configuratie_ongeldig")


# -- the processing-log record and the outcome are one transaction -------------------------------


def _failing(store: Store, statement: str, error: Exception) -> None:
    original = store.execute

    def execute(name: str, *args: Any, **kwargs: Any) -> int:
        if name == statement:
            raise error
        return original(name, *args, **kwargs)

    store.execute = execute  # type: ignore[method-assign]


@pytest.mark.pipeline
def test_an_outcome_is_not_stored_when_its_log_record_cannot_be(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    melding_id, bsn = _submit(rt)
    run_key = _key(rt.store, melding_id)
    pipeline.ontvang(rt, run_key)
    _failing(rt.store, "verwerkingslog_insert", RuntimeError("log kapot"))
    verwerking = Verwerking(TRACE, "schuld_cjib", "schuld_cjib@v1", bsn, now(), now(), True)
    with pytest.raises(RuntimeError, match="log kapot"):
        pipeline._bewaar_uitkomst(
            rt.store,
            melding_id,
            Aandachtsgebied.SCHULDEN,
            "schuld_cjib@v1",
            CheckResult("schuld_cjib", Uitkomst.JA, "Team Schulden", contact_herkomst=ContactHerkomst.BRON),
            record(verwerking, TEST_KEY.encode()),
        )
    assert _count(rt.store, "uitkomst", melding_id) == 0


@pytest.mark.pipeline
def test_a_check_whose_log_record_fails_ends_the_melding_closed(tmp_path: Path) -> None:
    bronnen = Opnemer()
    rt = _runtime(tmp_path, sources=bronnen.factory())
    melding_id, _ = _submit(rt)
    run_key = _key(rt.store, melding_id)
    pipeline.ontvang(rt, run_key)
    pipeline.plan(rt, run_key)
    _failing(rt.store, "verwerkingslog_insert", RuntimeError("log kapot"))
    with pytest.raises(pipeline.StapMislukt, match="intern_fout"):
        pipeline.voer_checks_uit(rt, run_key, Aandachtsgebied.SCHULDEN, TRACE)
    assert bronnen.gevraagd  # a source was asked ...
    assert_closed(rt.store, melding_id, "check", "intern_fout")  # ... and nothing of it is kept


@pytest.mark.pipeline
def test_every_stored_outcome_has_its_log_record_with_the_key_id(tmp_path: Path) -> None:
    bronnen = Opnemer()
    rt = _runtime(tmp_path, sources=bronnen.factory())
    melding_id, bsn = _submit(rt)
    run_key = _key(rt.store, melding_id)
    pipeline.ontvang(rt, run_key)
    pipeline.plan(rt, run_key)
    for gebied in Aandachtsgebied:
        pipeline.voer_checks_uit(rt, run_key, gebied, TRACE)
    executed = [r for r in rt.store.query("plan_for", {"melding_id": melding_id}) if r["uitvoeren"] == "ja"]
    rows = _log_rows(rt.store)
    assert sorted(r["name"] for r in rows) == sorted(f"nazorg.check.{r['check_id']}" for r in executed)
    key = TEST_KEY.encode()
    assert {r["sleutel_id"] for r in rows} == {sleutel_id(key)}
    assert {r["data_subject_id"] for r in rows} == {pseudonymise(bsn, key)}


# -- no melding stuck: every failure ends terminal, quarantined, nothing staged ------------------

IGNORES_BSNS = (
    "-- negeert de bsn-lijst\n"
    "SELECT bsn, 1 AS bekend, team AS dossierverantwoordelijke FROM cjib_vorderingen\n"
)


def _haal_centraal_elders(monkeypatch: pytest.MonkeyPatch) -> None:
    """Haal Centraal connections that resolve (the plan's probe asks for that) to a closed port."""
    for conn in ("HAAL_CENTRAAL_BRP", "HAAL_CENTRAAL_REISDOCUMENTEN"):
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{conn}", http_connection_json("http://127.0.0.1:9/haalcentraal/api")
        )


@pytest.fixture
def bronnen_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'bronnen.db'}"
    engine = make_engine(url)
    vul_bronnen(engine, population(), 1)
    engine.dispose()
    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_BRONNEN", url)
    _haal_centraal_elders(monkeypatch)
    monkeypatch.delenv("AIRFLOW_CONN_NAZORG_DB", raising=False)
    dispose_engines()
    yield url
    dispose_engines()


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    for part in ("register", "sql", "expectations"):
        shutil.copytree(SOURCE_ROOT / part, project / part)
    return project


def _statements_seen(conn_id: str) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine_for(conn_id), "before_cursor_execute")
    def _seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    return seen


@pytest.mark.pipeline
def test_a_lookup_edited_to_ignore_bsns_after_the_check_is_refused_before_it_runs(
    tmp_path: Path, bronnen_url: str
) -> None:
    project = _project(tmp_path)
    rt = _runtime(tmp_path, project=project)  # the register check passed: the policy loaded
    melding_id, _ = _submit(rt)
    run_key = _key(rt.store, melding_id)
    pipeline.ontvang(rt, run_key)
    pipeline.plan(rt, run_key)
    (project / "sql" / "lookups" / "schuld_cjib.sql").write_text(IGNORES_BSNS, encoding="utf-8")
    seen = _statements_seen("nazorg_bronnen")

    with pytest.raises(pipeline.StapMislukt, match="lookup_ongeldig") as caught:
        pipeline.voer_checks_uit(rt, run_key, Aandachtsgebied.SCHULDEN, TRACE)
    # a check task's message names no check (which checks run depends on consent): the quarantine does
    assert "schuld_cjib" not in str(caught.value) and melding_id not in str(caught.value)
    assert not [s for s in seen if "negeert" in s], "the query must never reach the source"
    assert_closed(rt.store, melding_id, "check", "lookup_ongeldig")
    assert ("check", "lookup_ongeldig", "bsns_ontbreekt") in _quarantined(rt.store, melding_id)


@pytest.mark.pipeline
def test_a_lookup_that_ignores_bsns_past_the_rules_still_ends_closed(
    tmp_path: Path, bronnen_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's crash itself: with the lookup rules switched off, SQLAlchemy refuses the query.

    It does so in the plan's probe (the query for nobody), before any source is asked about
    the person: the run ends closed at plan, for every melding of the gemeente alike.
    """
    from nazorg.sources import lookup_lint

    monkeypatch.setattr(lookup_lint, "lint", lambda sql, dialect: [])
    project = _project(tmp_path)
    (project / "sql" / "lookups" / "schuld_cjib.sql").write_text(IGNORES_BSNS, encoding="utf-8")
    rt = _runtime(tmp_path, project=project)
    melding_id, _ = _submit(rt)
    run_key = _key(rt.store, melding_id)
    pipeline.ontvang(rt, run_key)
    with pytest.raises(pipeline.StapMislukt, match="db_fout"):
        pipeline.plan(rt, run_key)
    assert_closed(rt.store, melding_id, "plan", "db_fout")
    assert _log_rows(rt.store) == []  # nobody was asked about


@pytest.mark.pipeline
def test_a_lookup_edited_past_the_rules_after_plan_ends_the_check_closed(
    tmp_path: Path, bronnen_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same query, edited in after the plan's probe: the check task ends closed, the attempt logged."""
    from nazorg.sources import lookup_lint

    monkeypatch.setattr(lookup_lint, "lint", lambda sql, dialect: [])
    project = _project(tmp_path)
    rt = _runtime(tmp_path, project=project)
    melding_id, _ = _submit(rt)
    run_key = _key(rt.store, melding_id)
    pipeline.ontvang(rt, run_key)
    pipeline.plan(rt, run_key)
    (project / "sql" / "lookups" / "schuld_cjib.sql").write_text(IGNORES_BSNS, encoding="utf-8")
    with pytest.raises(pipeline.StapMislukt, match="db_fout") as caught:
        pipeline.voer_checks_uit(rt, run_key, Aandachtsgebied.SCHULDEN, TRACE)
    assert "schuld_cjib" not in str(caught.value) and melding_id not in str(caught.value)
    assert_closed(rt.store, melding_id, "check", "db_fout")
    names = {r["name"]: r["status_code"] for r in _log_rows(rt.store)}
    assert names["nazorg.check.schuld_cjib"] == "ERROR"  # the attempt is logged, outcome or not


@pytest.mark.pipeline
def test_a_bug_in_an_adapter_ends_closed_and_its_message_carries_no_value(tmp_path: Path) -> None:
    bronnen = Opnemer()
    rt = _runtime(tmp_path, sources=bronnen.factory())
    melding_id, bsn = _submit(rt)
    run_key = _key(rt.store, melding_id)
    pipeline.ontvang(rt, run_key)
    pipeline.plan(rt, run_key)
    bronnen.fout = KeyError(bsn)  # a bug whose message holds a BSN
    with pytest.raises(pipeline.StapMislukt) as caught:
        pipeline.voer_checks_uit(rt, run_key, Aandachtsgebied.SCHULDEN, TRACE)
    assert "intern_fout" in str(caught.value) and "KeyError" in str(caught.value)
    assert bsn not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert_closed(rt.store, melding_id, "check", "intern_fout")
    assert bsn not in str(rt.store.query("quarantaine_list"))


@pytest.mark.pipeline
def test_a_pipeline_db_error_ends_closed(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, sources=Opnemer().factory())
    melding_id, _ = _submit(rt)
    run_key = _key(rt.store, melding_id)
    pipeline.ontvang(rt, run_key)
    pipeline.plan(rt, run_key)
    _failing(rt.store, "uitkomst_upsert", OperationalError("INSERT ...", {}, Exception("disk I/O error")))
    with pytest.raises(pipeline.StapMislukt, match="db_fout"):
        pipeline.voer_checks_uit(rt, run_key, Aandachtsgebied.SCHULDEN, TRACE)
    assert_closed(rt.store, melding_id, "check", "db_fout")


@pytest.mark.pipeline
def test_a_source_outage_is_still_onbekend_not_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failing closed does not swallow the rule that a failing source gives onbekend with a reason."""
    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_BRONNEN", f"sqlite:///{tmp_path / 'bestaat' / 'niet.db'}")
    monkeypatch.delenv("AIRFLOW_CONN_NAZORG_DB", raising=False)
    _haal_centraal_elders(monkeypatch)
    dispose_engines()
    rt = _runtime(tmp_path)
    melding_id, _ = _submit(rt)
    run_key = _key(rt.store, melding_id)
    pipeline.ontvang(rt, run_key)
    pipeline.plan(rt, run_key)
    pipeline.voer_checks_uit(rt, run_key, Aandachtsgebied.SCHULDEN, TRACE)
    dispose_engines()
    outcomes = rt.store.query("uitkomst_for", {"melding_id": melding_id})
    executed = [o for o in outcomes if o["uitkomst"] != Uitkomst.NIET_UITGEVOERD]
    assert executed and {(o["uitkomst"], o["reden"]) for o in executed} == {("onbekend", "bron_onbereikbaar")}
    assert _status(rt.store, melding_id) == MeldingStatus.IN_BEHANDELING


def _approved_document(store: Store, melding_id: str, status: DocumentStatus) -> None:
    with store.transaction() as conn:
        store.execute(
            "basisdocument_upsert",
            {
                "melding_id": melding_id,
                "gemeente_code": "9901",
                "status": status.value,
                "inhoud": geldig_document("EDM-DOC-0001"),  # publication validates the schema first
                "register_versie": "1",
                "nu": now(),
            },
            conn=conn,
        )


STEPS = ["ontvang", "plan", "basisdocument", "bewaak", "publiceer"]


@pytest.mark.pipeline
@pytest.mark.parametrize("step", STEPS)
def test_a_bug_in_any_step_ends_the_melding_closed(
    step: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pathlib

    from nazorg import guard

    rt = _runtime(tmp_path, sources=Opnemer().factory())
    melding_id, _ = _submit(rt)
    run_key = _key(rt.store, melding_id)

    def bug(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("999000007")  # a bug's message may hold anything

    run: Callable[[], object]
    if step == "ontvang":
        monkeypatch.setattr(pipeline, "require_current_schema", bug)
        run = lambda: pipeline.ontvang(rt, run_key)  # noqa: E731
    else:
        pipeline.ontvang(rt, run_key)
        pipeline.plan(rt, run_key)
        if step == "plan":
            monkeypatch.setattr(pipeline, "beslis", bug)
            run = lambda: pipeline.plan(rt, run_key)  # noqa: E731
        elif step == "basisdocument":
            monkeypatch.setattr(pipeline.bd, "stel_op", bug)
            run = lambda: pipeline.stel_basisdocument_op(rt, run_key)  # noqa: E731
        elif step == "bewaak":
            _approved_document(rt.store, melding_id, DocumentStatus.CONCEPT)
            monkeypatch.setattr(guard, "validate_frame", bug)
            run = lambda: pipeline.bewaak(rt, run_key)  # noqa: E731
        else:
            _approved_document(rt.store, melding_id, DocumentStatus.GOEDGEKEURD)
            monkeypatch.setattr(pathlib.Path, "replace", bug)
            run = lambda: pipeline.publiceer(rt, run_key, directory=tmp_path / "out")  # noqa: E731
    with pytest.raises(pipeline.StapMislukt, match="intern_fout") as caught:
        run()
    assert "999000007" not in str(caught.value)
    assert_closed(rt.store, melding_id, step, "intern_fout")


@pytest.mark.pipeline
def test_a_task_whose_runtime_cannot_be_built_ends_the_melding_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A besluit edited into an invalid state between two tasks of a run."""
    from nazorg.airflow import tasks
    from nazorg.register import RegisterError

    rt = _runtime(tmp_path, sources=Opnemer().factory())
    melding_id, _ = _submit(rt)
    run_key = _key(rt.store, melding_id)
    pipeline.ontvang(rt, run_key)

    def broken() -> Runtime:
        raise RegisterError("besluit 9901: onbekende check x")

    monkeypatch.setattr(tasks, "_runtime", broken)
    monkeypatch.setattr(Store, "from_connection", classmethod(lambda cls, *a, **k: rt.store))
    with pytest.raises(pipeline.StapMislukt, match="register_ongeldig"):
        tasks.plan(SimpleNamespace(conf={"run_key": run_key}))
    assert_closed(rt.store, melding_id, "plan", "register_ongeldig")


@pytest.mark.pipeline
def test_a_failed_melding_refuses_late_writes_and_a_new_run_takes_it_up(tmp_path: Path) -> None:
    bronnen = Opnemer()
    weak = _runtime(tmp_path, key="k" * 16, sources=bronnen.factory())
    melding_id, _ = _submit(weak)
    run_key = _key(weak.store, melding_id)
    with pytest.raises(pipeline.StapMislukt):
        pipeline.ontvang(weak, run_key)
    with pytest.raises(pipeline.Geblokkeerd, match="mislukt"):  # e.g. a check task still running
        pipeline._bewaar_uitkomst(
            weak.store,
            melding_id,
            Aandachtsgebied.SCHULDEN,
            "schuld_cjib@v1",
            CheckResult("schuld_cjib", Uitkomst.NEE, "Team Schulden", contact_herkomst=ContactHerkomst.BRON),
        )
    assert _count(weak.store, "uitkomst", melding_id) == 0

    fixed = _runtime(tmp_path, store=weak.store, sources=bronnen.factory())
    pipeline.ontvang(fixed, run_key)
    assert _status(fixed.store, melding_id) == MeldingStatus.IN_BEHANDELING
    pipeline.plan(fixed, run_key)
    for gebied in Aandachtsgebied:
        pipeline.voer_checks_uit(fixed, run_key, gebied, TRACE)
    pipeline.stel_basisdocument_op(fixed, run_key)
    assert _count(fixed.store, "basisdocument", melding_id) == 1

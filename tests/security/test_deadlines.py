"""Attack classes 8 and 9: a slow or bloated source cannot hold a task or fill its memory.

8. Timeouts everywhere: a 150 s SQL lookup ran to the end, and a Haal Centraal
   server trickling a byte every 3 s held each call for a minute despite a 5 s
   read timeout. Now every source question has one deadline for everything it
   does (connect, statements, fetches, every attempt, backoff, the whole body),
   a check task has one for all its questions, and past it the check is
   onbekend with ``bron_timeout``.
9. Size caps: a 200 MB Haal Centraal body was read and parsed whole. Now
   bodies are streamed and refused past a cap (``bron_fout``), a declared
   Content-Length before reading anything; a SQL lookup stops reading at a cap
   of rows per BSN (``lookup_te_veel_rijen``, the melding blocks).

Unit tests assert counts (calls made, bytes or rows read), never time. The
integration tests against PostgreSQL and the simulator assert an upper bound
with a wide margin (deadline 1 s, bound 10 s) where the attack takes minutes.
All BSNs are synthetic 999-series numbers.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text

from nazorg.checks import Geval, evalueer
from nazorg.connections import get_connection, http_connection_json
from nazorg.models import Reden, Uitkomst
from nazorg.register import Besluit, default_policy
from nazorg.settings import Settings, SettingsError
from nazorg.sources import sql_lookup
from nazorg.sources.answer import Antwoord
from nazorg.sources.builtin import ReisdocumentenAdapter
from nazorg.sources.deadline import Deadline
from nazorg.sources.errors import SourceError, SourceShapeError, SourceTimeout
from nazorg.sources.haal_centraal import BrpPersonenClient, ReisdocumentenClient
from nazorg.sources.http_deadline import DeadlineTransport
from nazorg.sources.live import LiveSources
from nazorg.sources.sql_lookup import FETCH_BATCH, run_lookup
from nazorg.store import make_engine
from nazorg_dev.sim.population import population, synthetic_bsns

REPO = Path(__file__).resolve().parents[2]
BSNS = [b for b, _ in zip(synthetic_bsns(), range(20), strict=False)]
BSN = BSNS[0]
PEILDATUM = date(2026, 11, 29)
MARGE_S = 10.0  # the bound for a 1 s deadline on a loaded machine; the attacks take minutes

LOOKUP_TRAAG = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
SELECT p.bsn AS bsn, 1 AS bekend, 'Team' AS dossierverantwoordelijke
FROM p, n WHERE p.bsn IN :bsns AND traag(i) = 0
"""
LOOKUP_RIJEN = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rijen})
SELECT p.bsn AS bsn, 1 AS bekend, 'Team' AS dossierverantwoordelijke
FROM p, n WHERE p.bsn IN :bsns AND tel(i) = 1
"""
LOOKUP_GEWOON = "SELECT bsn, 1 AS bekend, 'Team' AS dossierverantwoordelijke FROM p WHERE bsn IN :bsns"


# --------------------------------------------------------------------------- SQL on SQLite (unit)


class Teller:
    """A SQL function that counts its calls (and can be slow): how far a query got, without a clock."""

    def __init__(self, pauze_s: float = 0.0) -> None:
        self.pauze_s = pauze_s
        self.aanroepen = 0

    def __call__(self, _waarde: object) -> int:
        self.aanroepen += 1
        if self.pauze_s:
            time.sleep(self.pauze_s)
        return 1


@pytest.fixture
def sqlite_bron(tmp_path: Path) -> Iterator[tuple[Any, Teller, Teller]]:
    """A SQLite bron with one known person and two counting functions: traag() (slow) and tel()."""
    engine = make_engine(f"sqlite:///{tmp_path / 'bron.db'}")
    traag, tel = Teller(pauze_s=0.02), Teller()

    @event.listens_for(engine, "connect")
    def _functies(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.create_function("traag", 1, traag)
        dbapi_conn.create_function("tel", 1, tel)

    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE p (bsn TEXT)"))
        conn.execute(text("INSERT INTO p VALUES (:bsn)"), {"bsn": BSN})
    yield engine, traag, tel
    engine.dispose()


@pytest.mark.unit
def test_sqlite_lookup_wordt_op_de_deadline_onderbroken(sqlite_bron: tuple[Any, Teller, Teller]) -> None:
    """5000 rows at 20 ms each would take 100 s; the watchdog interrupts it after half a second."""
    engine, traag, _ = sqlite_bron
    with pytest.raises(SourceTimeout) as fout:
        run_lookup(engine, LOOKUP_TRAAG, [BSN], deadline=Deadline.after(0.5))
    assert fout.value.reden is Reden.BRON_TIMEOUT
    assert BSN not in str(fout.value)
    assert 0 < traag.aanroepen < 5000 // 2  # stopped early; in practice a few dozen calls
    # the interrupted connection is not handed out again; the next lookup is answered
    assert run_lookup(engine, LOOKUP_GEWOON, [BSN, BSNS[1]]) == {
        BSN: Antwoord.ja("Team"),
        BSNS[1]: Antwoord.nee(),
    }


@pytest.mark.unit
def test_een_verstreken_deadline_vraagt_de_bron_niets(sqlite_bron: tuple[Any, Teller, Teller]) -> None:
    engine, _, _ = sqlite_bron
    verbindingen: list[object] = []
    event.listen(engine, "checkout", lambda *args: verbindingen.append(args))
    with pytest.raises(SourceTimeout):
        run_lookup(engine, LOOKUP_GEWOON, [BSN], deadline=Deadline.after(0))
    assert verbindingen == []


@pytest.mark.unit
def test_sqlite_lookup_met_te_veel_rijen_wordt_geweigerd_zonder_alles_te_lezen(
    sqlite_bron: tuple[Any, Teller, Teller],
) -> None:
    """A million rows about one person: refused after the first batch, not loaded whole."""
    engine, _, tel = sqlite_bron
    with pytest.raises(SourceShapeError) as fout:
        run_lookup(engine, LOOKUP_RIJEN.format(rijen=1_000_000), [BSN], max_rows_per_bsn=10)
    assert (fout.value.reden_code, fout.value.kolommen) == ("lookup_te_veel_rijen", ("bsn",))
    assert tel.aanroepen <= 2 * FETCH_BATCH


@pytest.mark.unit
@pytest.mark.parametrize(("rijen", "geweigerd"), [(10, False), (11, True)])
def test_de_rijengrens_is_per_gevraagde_bsn(
    sqlite_bron: tuple[Any, Teller, Teller], rijen: int, geweigerd: bool
) -> None:
    engine, _, _ = sqlite_bron
    query = LOOKUP_RIJEN.format(rijen=rijen)
    if geweigerd:
        with pytest.raises(SourceShapeError, match="lookup_te_veel_rijen"):
            run_lookup(engine, query, [BSN], max_rows_per_bsn=10)
    else:  # ten agreeing rows are one answer; and two asked BSNs allow twenty rows
        assert run_lookup(engine, query, [BSN], max_rows_per_bsn=10) == {BSN: Antwoord.ja("Team")}
    assert run_lookup(engine, query, [BSN, BSNS[1]], max_rows_per_bsn=10)[BSN] == Antwoord.ja("Team")


# --------------------------------------------------------------------------- SQL on PostgreSQL


@pytest.fixture
def pg_bron(fresh_postgres_db: str) -> Iterator[Any]:
    engine = make_engine(fresh_postgres_db)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE p (bsn TEXT)"))
        conn.execute(text("INSERT INTO p VALUES (:bsn)"), {"bsn": BSN})
    yield engine
    engine.dispose()


PG_SLAAP = (
    "SELECT bsn, 1 AS bekend, 'Team' AS dossierverantwoordelijke FROM p "
    "WHERE bsn IN :bsns AND pg_sleep(150) IS NOT NULL"
)


def _uit(monkeypatch: pytest.MonkeyPatch, mechanisme: str) -> None:
    """Switch off one of the two PostgreSQL mechanisms, to show the other holds on its own."""
    if mechanisme == "statement_timeout":
        monkeypatch.setattr(sql_lookup, "_limit_statement", lambda conn, deadline: None)
    elif mechanisme == "watchdog":
        monkeypatch.setattr(sql_lookup._Watchdog, "_interrupt", lambda self: False)


@pytest.mark.integration
@pytest.mark.parametrize("zonder", ["niets", "statement_timeout", "watchdog"])
def test_pg_sleep_van_150_s_eindigt_op_de_deadline(
    pg_bron: Any, monkeypatch: pytest.MonkeyPatch, zonder: str
) -> None:
    _uit(monkeypatch, zonder)
    start = time.monotonic()
    with pytest.raises(SourceTimeout) as fout:
        run_lookup(pg_bron, PG_SLAAP, [BSN], deadline=Deadline.after(1.0))
    assert time.monotonic() - start < MARGE_S
    assert fout.value.reden is Reden.BRON_TIMEOUT
    monkeypatch.undo()
    # the pool is healthy afterwards, and SET LOCAL did not stay on a pooled connection
    assert run_lookup(pg_bron, LOOKUP_GEWOON, [BSN]) == {BSN: Antwoord.ja("Team")}
    with pg_bron.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "0"


@pytest.mark.integration
def test_pg_lookup_draait_met_statement_timeout_binnen_de_deadline(pg_bron: Any) -> None:
    """The query itself sees the limit the server enforces (read back as the contact)."""
    query = (
        "SELECT bsn, 1 AS bekend, current_setting('statement_timeout') AS dossierverantwoordelijke "
        "FROM p WHERE bsn IN :bsns"
    )
    antwoord = run_lookup(pg_bron, query, [BSN], deadline=Deadline.after(30.0))[BSN]
    assert antwoord.contact is not None and antwoord.contact.endswith("ms")
    assert 0 < int(antwoord.contact.removesuffix("ms")) <= 30_000


@pytest.mark.integration
def test_pg_lookup_met_honderd_miljoen_rijen_wordt_geweigerd(pg_bron: Any) -> None:
    """A server-side cursor: the first batch over the cap ends it, the rest is never sent."""
    query = (
        "SELECT p.bsn AS bsn, 1 AS bekend, 'Team' AS dossierverantwoordelijke "
        "FROM p, (SELECT generate_series(1, 100000000) AS i) AS n WHERE p.bsn IN :bsns"
    )
    start = time.monotonic()
    with pytest.raises(SourceShapeError, match="lookup_te_veel_rijen"):
        run_lookup(pg_bron, query, [BSN], deadline=Deadline.after(60.0), max_rows_per_bsn=10)
    assert time.monotonic() - start < MARGE_S


# --------------------------------------------------------------------------- HTTP, mocked (unit)


def _stroom_client(
    stukken: Callable[[], Iterator[bytes]], headers: dict[str, str] | None = None, status: int = 200
) -> tuple[httpx.Client, dict[str, int]]:
    """A client whose server streams ``stukken``; counts requests and the bytes the client pulled."""
    tellers = {"requests": 0, "bytes": 0}

    def geteld() -> Iterator[bytes]:
        for stuk in stukken():
            tellers["bytes"] += len(stuk)
            yield stuk

    def handler(request: httpx.Request) -> httpx.Response:
        tellers["requests"] += 1
        kop = {"Content-Type": "application/json", **(headers or {})}
        return httpx.Response(status, headers=kop, stream=_Stroom(geteld()))

    return httpx.Client(transport=httpx.MockTransport(handler)), tellers


class _Stroom(httpx.SyncByteStream):
    def __init__(self, stukken: Iterator[bytes]) -> None:
        self._stukken = stukken

    def __iter__(self) -> Iterator[bytes]:
        return self._stukken


def _reis_json(aantal_docs: int = 1) -> bytes:
    doc = {
        "datumEindeGeldigheid": {"type": "Datum", "datum": "2030-01-01"},
        "houder": {"burgerservicenummer": BSN},  # the asked person's own document
    }
    return json.dumps({"type": "ZoekMetBurgerservicenummer", "reisdocumenten": [doc] * aantal_docs}).encode()


@pytest.mark.unit
def test_een_druppelend_antwoord_stopt_op_de_deadline_ook_zonder_deadline_transport() -> None:
    """2000 bytes at 50 ms each would take 100 s; the check between chunks ends it."""

    def druppels() -> Iterator[bytes]:
        for byte in _reis_json(60)[:2000]:
            time.sleep(0.05)
            yield bytes((byte,))

    http, tellers = _stroom_client(druppels)
    with (
        ReisdocumentenClient("http://reis.test", client=http, deadline_s=0.3) as reis,
        pytest.raises(SourceTimeout),
    ):
        reis.geldig_id(BSN, PEILDATUM)
    assert 0 < tellers["bytes"] < 1000
    assert tellers["requests"] == 1  # no retry once the deadline has passed


@pytest.mark.unit
def test_een_te_groot_antwoord_wordt_gestreamd_geweigerd() -> None:
    """64 MiB of valid JSON without a Content-Length: refused just past the cap."""
    stuk = b"{}," * (64 << 10 // 3)

    def enorm() -> Iterator[bytes]:
        yield b'{"type":"RaadpleegMetBurgerservicenummer","personen":['
        for _ in range((64 << 20) // len(stuk)):
            yield stuk
        yield b"{}]}"

    http, tellers = _stroom_client(enorm)
    cap = 1 << 20
    with (
        BrpPersonenClient("http://brp.test", client=http, max_body_bytes=cap) as brp,
        pytest.raises(SourceError) as fout,
    ):
        brp.woonadres([BSN])
    assert fout.value.reden is Reden.BRON_FOUT
    assert "antwoord te groot" in str(fout.value)
    assert tellers["bytes"] <= cap + len(stuk)
    assert tellers["requests"] == 1  # not asked again


@pytest.mark.unit
def test_een_aangekondigd_te_groot_antwoord_wordt_niet_gelezen() -> None:
    body = _reis_json(10)
    http, tellers = _stroom_client(lambda: iter([body]), {"Content-Length": str(len(body))})
    with ReisdocumentenClient("http://reis.test", client=http, max_body_bytes=len(body) - 1) as reis:
        assert reis.geldig_id_many([BSN], PEILDATUM) == {BSN: Antwoord.onbekend(Reden.BRON_FOUT)}
    assert tellers["bytes"] == 0


@pytest.mark.unit
def test_een_gecomprimeerd_antwoord_wordt_geweigerd_en_niet_gevraagd() -> None:
    """A gzip body would be inflated a chunk at a time, past any cap: we ask for identity only."""
    verzoeken: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        verzoeken.append(request)
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"\x1f\x8b")

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with ReisdocumentenClient("http://reis.test", client=http) as reis, pytest.raises(SourceError) as fout:
        reis.geldig_id(BSN, PEILDATUM)
    assert fout.value.reden is Reden.BRON_FOUT
    assert verzoeken[0].headers["Accept-Encoding"] == "identity"


@pytest.mark.unit
def test_retry_after_voorbij_de_deadline_wordt_niet_afgewacht() -> None:
    http, tellers = _stroom_client(lambda: iter([b"{}"]), {"Retry-After": "30"}, status=503)
    with (
        ReisdocumentenClient("http://reis.test", client=http, max_attempts=5, deadline_s=1.0) as reis,
        pytest.raises(SourceError) as fout,
    ):
        reis.geldig_id(BSN, PEILDATUM)
    assert (fout.value.reden, fout.value.status) == (Reden.BRON_FOUT, 503)
    assert tellers["requests"] == 1


@pytest.mark.unit
def test_backoff_stopt_waar_de_deadline_begint() -> None:
    """Ten attempts with doubling backoff from 0.4 s would sleep minutes; a 1 s deadline allows two."""
    http, tellers = _stroom_client(lambda: iter([b"{}"]), status=503)
    with (
        ReisdocumentenClient(
            "http://reis.test", client=http, max_attempts=10, backoff_s=0.4, deadline_s=1.0
        ) as reis,
        pytest.raises(SourceError),
    ):
        reis.geldig_id(BSN, PEILDATUM)
    assert 1 <= tellers["requests"] <= 3


# --------------------------------------------------------------------------- settings and wiring (unit)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("naam", "waarde"),
    [
        ("NAZORG_SOURCE_DEADLINE_S", "abc"),
        ("NAZORG_SOURCE_DEADLINE_S", "0"),
        ("NAZORG_CHECK_TASK_DEADLINE_S", "-5"),
        ("NAZORG_CHECK_TASK_DEADLINE_S", "nan"),
        ("NAZORG_BRP_PERSONEN_MAX_BYTES", "1.5"),
        ("NAZORG_REISDOCUMENTEN_MAX_BYTES", "0"),
        ("NAZORG_SQL_MAX_ROWS_PER_BSN", "veel"),
    ],
)
def test_ongeldige_grenzen_worden_geweigerd(naam: str, waarde: str) -> None:
    with pytest.raises(SettingsError) as fout:
        Settings.from_env({naam: waarde})
    assert naam in str(fout.value)
    assert waarde not in str(fout.value)


@pytest.mark.unit
def test_grenzen_komen_uit_de_omgeving() -> None:
    config = Settings.from_env(
        {
            "NAZORG_SOURCE_DEADLINE_S": "2.5",
            "NAZORG_CHECK_TASK_DEADLINE_S": "40",
            "NAZORG_BRP_PERSONEN_MAX_BYTES": "2048",
            "NAZORG_REISDOCUMENTEN_MAX_BYTES": "1024",
            "NAZORG_SQL_MAX_ROWS_PER_BSN": "3",
        }
    )
    assert (
        config.source_deadline_s,
        config.check_task_deadline_s,
        config.brp_personen_max_bytes,
        config.reisdocumenten_max_bytes,
        config.sql_max_rows_per_bsn,
    ) == (2.5, 40.0, 2048, 1024, 3)
    standaard = Settings.from_env({})
    assert (standaard.source_deadline_s, standaard.check_task_deadline_s) == (30.0, 120.0)
    assert (standaard.brp_personen_max_bytes, standaard.reisdocumenten_max_bytes) == (1 << 20, 256 << 10)


def _sql_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Besluit]:
    (tmp_path / "bron").mkdir()
    engine = make_engine(f"sqlite:///{tmp_path / 'bron' / 'b.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE p (bsn TEXT)"))
        conn.execute(text("INSERT INTO p VALUES (:bsn)"), {"bsn": BSN})
    engine.dispose()
    (tmp_path / "sql" / "lookups").mkdir(parents=True)
    (tmp_path / "sql" / "lookups" / "p.sql").write_text(LOOKUP_GEWOON)
    monkeypatch.setenv("AIRFLOW_CONN_TEST_BRON", f"sqlite:///{tmp_path / 'bron' / 'b.db'}")
    entry = default_policy().register.entry("schuld_cjib")
    besluit = Besluit.model_validate(
        {
            "gemeente_code": "9901",
            "gemeente_naam": "Testdorp",
            "oin": "00000001999901000000",
            "besluit": {"id": "T-1", "titel": "Testbesluit deadlines", "vastgesteld_op": "2026-01-01"},
            "teams": [{"id": "team-x", "naam": "Team X"}],
            "checks": {
                "schuld_cjib": {
                    "lookup": {"verbinding": "test_bron", "query": "lookups/p.sql"},
                    "dossierverantwoordelijke": "team-x",
                }
            },
        }
    )
    return entry, besluit


@pytest.mark.unit
def test_na_de_taakdeadline_is_elke_check_onbekend_bron_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nazorg.store import dispose_engines

    entry, besluit = _sql_check(tmp_path, monkeypatch)
    geval = Geval("EDM-T1", BSN, None)
    try:
        ruim = Settings.for_project(tmp_path)
        with LiveSources(ruim) as sources:  # the control: in time, the source answers ja
            assert (
                evalueer(entry, besluit, [geval], sources, PEILDATUM)[geval.melding_id].uitkomst
                is Uitkomst.JA
            )
        krap = Settings.for_project(tmp_path, check_task_deadline_s=0.001)
        with LiveSources(krap) as sources:
            while not sources.task_deadline.expired():
                time.sleep(0.001)
            resultaat = evalueer(entry, besluit, [geval], sources, PEILDATUM)[geval.melding_id]
    finally:
        dispose_engines()
    assert (resultaat.uitkomst, resultaat.reden) == (Uitkomst.ONBEKEND, Reden.BRON_TIMEOUT)
    assert resultaat.dossierverantwoordelijke == "Team X"


@pytest.mark.unit
def test_de_adapters_nemen_de_grenzen_uit_de_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_HAAL_CENTRAAL_REISDOCUMENTEN", http_connection_json("http://reis.test"))
    http = httpx.Client(
        transport=httpx.MockTransport(
            lambda request: httpx.Response(
                200, content=_reis_json(5), headers={"Content-Type": "application/json"}
            )
        )
    )
    entry = default_policy().register.entry("id_bewijs")
    besluit = default_policy().besluit("9901")  # id_bewijs over haal_centraal_reisdocumenten
    geval = Geval("EDM-T2", BSN, None)

    class Sources:
        def __init__(self, adapter: ReisdocumentenAdapter) -> None:
            self._adapter = adapter

        def adapter(self, kind: str) -> ReisdocumentenAdapter:
            return self._adapter

    uitkomsten = []
    for max_bytes in (256 << 10, len(_reis_json(5)) - 1):
        config = Settings.for_project(REPO, reisdocumenten_max_bytes=max_bytes)
        adapter = ReisdocumentenAdapter(config, http=http)
        resultaat = evalueer(entry, besluit, [geval], Sources(adapter), PEILDATUM)[geval.melding_id]
        uitkomsten.append((resultaat.uitkomst, resultaat.reden))
        adapter.close()
    http.close()
    assert uitkomsten == [(Uitkomst.JA, None), (Uitkomst.ONBEKEND, Reden.BRON_FOUT)]


@pytest.mark.unit
def test_dag_timeouts_liggen_ruim_boven_de_deadlines_van_de_bronnen() -> None:
    from nazorg.airflow.timeouts import EERSTEDAGSMELDING_TASKS, eerstedagsmelding_timeouts

    for taak_s in (1.0, 120.0, 3600.0):
        config = Settings.for_project(REPO, check_task_deadline_s=taak_s, source_deadline_s=taak_s / 2)
        timeouts = eerstedagsmelding_timeouts(config)
        assert timeouts.task > timedelta(seconds=config.check_task_deadline_s)
        assert timeouts.task > timedelta(seconds=config.source_deadline_s)
        assert timeouts.run == timeouts.task * EERSTEDAGSMELDING_TASKS
    assert EERSTEDAGSMELDING_TASKS == 11


@pytest.mark.integration
def test_de_dag_zet_execution_timeout_en_dagrun_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    from nazorg.airflow.timeouts import eerstedagsmelding_timeouts
    from nazorg.settings import reload_settings

    monkeypatch.setenv("NAZORG_CHECK_TASK_DEADLINE_S", "77")
    reload_settings()
    spec = importlib.util.spec_from_file_location("edm_timeouts", REPO / "dags" / "eerstedagsmelding.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag = module.eerstedagsmelding()
    verwacht = eerstedagsmelding_timeouts()
    assert verwacht.task == timedelta(seconds=77 + 120)
    assert dag.dagrun_timeout == verwacht.run
    assert len(dag.tasks) == 11
    assert {t.task_id: t.execution_timeout for t in dag.tasks} == dict.fromkeys(dag.task_ids, verwacht.task)


# --------------------------------------------------------------------------- HTTP against the simulator


@pytest.fixture
def sim() -> Iterator[Any]:
    from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer

    with HaalCentraalSimServer(port=0) as server:
        yield server


class _TelStroom(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, teller: list[int]) -> None:
        self._inner = inner
        self._teller = teller

    def __iter__(self) -> Iterator[bytes]:
        for stuk in self._inner:
            self._teller[0] += len(stuk)
            yield stuk

    def close(self) -> None:
        self._inner.close()


class TellendeTransport(httpx.BaseTransport):
    """The real deadline transport, counting the body bytes the client pulls from it."""

    def __init__(self) -> None:
        self._inner = DeadlineTransport()
        self.gelezen = [0]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_TelStroom(response.stream, self.gelezen),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()


@pytest.mark.integration
def test_druppelende_server_houdt_een_brp_vraag_niet_vast(sim: Any) -> None:
    """A byte every 0.5 s, status line and headers included: no read ever times out, the deadline does."""
    sim.configure(fault="trickle", trickle_interval_s=0.5)
    start = time.monotonic()
    with (
        BrpPersonenClient(sim.brp_base_url, timeout=5.0, max_attempts=3, deadline_s=1.0) as brp,
        pytest.raises(SourceTimeout) as fout,
    ):
        brp.woonadres(BSNS[:5])
    assert time.monotonic() - start < MARGE_S
    assert fout.value.reden is Reden.BRON_TIMEOUT
    stats = sim.stats()
    assert stats["requests"]["personen"] == 1  # the deadline leaves no time for a retry
    assert stats["statuses"] == {"trickle": 1}
    assert stats["streamed_bytes"] < 20  # the response had hundreds of bytes to go


@pytest.mark.integration
def test_druppelende_server_en_de_reisdocumenten_pool_delen_een_deadline(sim: Any) -> None:
    sim.configure(fault="trickle", trickle_interval_s=0.5)
    start = time.monotonic()
    with ReisdocumentenClient(sim.reisdocumenten_base_url, deadline_s=1.0) as reis:
        antwoorden = reis.geldig_id_many(BSNS[:12], PEILDATUM, max_concurrency=4)
    assert time.monotonic() - start < MARGE_S
    assert antwoorden == dict.fromkeys(BSNS[:12], Antwoord.onbekend(Reden.BRON_TIMEOUT))
    assert sim.stats()["requests"]["reisdocumenten"] <= 8  # later BSNs were never sent


@pytest.mark.integration
@pytest.mark.parametrize("aangekondigd", [False, True], ids=["chunked", "content-length"])
def test_enorm_antwoord_van_de_server_wordt_niet_gelezen(sim: Any, aangekondigd: bool) -> None:
    totaal = 64 << 20
    sim.configure(fault="huge", huge_bytes=totaal, huge_declare_length=aangekondigd)
    transport = TellendeTransport()
    cap = 1 << 20
    with (
        httpx.Client(transport=transport) as http,
        BrpPersonenClient(sim.brp_base_url, client=http, max_body_bytes=cap) as brp,
        pytest.raises(SourceError) as fout,
    ):
        brp.woonadres(BSNS[:5])
    assert fout.value.reden is Reden.BRON_FOUT and "antwoord te groot" in str(fout.value)
    assert transport.gelezen[0] <= (0 if aangekondigd else cap + (64 << 10))
    # the client hung up: the server could not push it all (at most what socket buffers hold)
    deadline = Deadline.after(5)
    while sim.stats()["statuses"].get("huge") != 1 and not deadline.expired():
        time.sleep(0.05)
    assert sim.stats()["streamed_bytes"] < totaal // 2


@pytest.mark.integration
def test_checks_via_live_sources_worden_onbekend_bij_een_druppelende_brp(
    sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end through the settings, LiveSources and the adapter: onbekend, bron_timeout."""
    monkeypatch.setenv("AIRFLOW_CONN_HAAL_CENTRAAL_BRP", http_connection_json(sim.brp_base_url))
    sim.configure(fault="trickle", trickle_interval_s=0.5)
    policy = default_policy()
    besluit = policy.besluit("9901")
    persoon = population()[0]
    geval = Geval("EDM-T3", persoon.bsn, None)
    config = Settings.for_project(REPO, source_deadline_s=1.0)
    get_connection("haal_centraal_brp")  # imports Airflow once, before the clock starts
    start = time.monotonic()
    with LiveSources(config) as sources:
        resultaat = evalueer(policy.register.entry("kinderen"), besluit, [geval], sources, PEILDATUM)[
            geval.melding_id
        ]
    assert time.monotonic() - start < MARGE_S
    assert (resultaat.uitkomst, resultaat.reden) == (Uitkomst.ONBEKEND, Reden.BRON_TIMEOUT)


@pytest.mark.integration
def test_de_simulator_stopt_druppelen_als_hij_stopt() -> None:
    """A trickling handler must not keep the simulator (and a test run) alive."""
    from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer

    server = HaalCentraalSimServer(port=0, fault="trickle")
    server.start()
    server.configure(trickle_interval_s=30.0)
    klaar = threading.Event()

    def vraag() -> None:
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(
                f"{server.brp_base_url}/personen",
                json={
                    "type": "RaadpleegMetBurgerservicenummer",
                    "burgerservicenummer": [BSN],
                    "fields": ["burgerservicenummer"],
                },
                timeout=60,
            )
        klaar.set()

    threading.Thread(target=vraag, daemon=True).start()
    time.sleep(0.2)
    server.stop()
    assert klaar.wait(MARGE_S)

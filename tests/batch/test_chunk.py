"""One chunk in-process: the same documents as the per-melding path, set-based questions, bulk writes.

Each test runs on SQLite (``pipeline``) and on PostgreSQL (``integration``),
pipeline DB and source systems alike; the Haal Centraal simulator answers over HTTP.
"""

from __future__ import annotations

import json
import stat
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import event

from nazorg.batch import chunk
from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer
from nazorg_dev.sim.meldingen import meldingen
from tests.batch.conftest import BatchWorld
from tests.oracle import expected


def test_batch_and_per_melding_publish_byte_identical_documents(
    batch_world: BatchWorld, per_melding_world: BatchWorld
) -> None:
    records = list(meldingen(40, offset=200))
    assert {r["gemeente_code"] for r in records} == {"9901", "9902"}
    ids = batch_world.submit(records)
    per_melding_world.submit(records)
    for melding_id in ids:
        per_melding_world.run_per_melding(melding_id)

    resultaat = batch_world.verwerk(ids)

    assert (resultaat.meldingen, resultaat.gepubliceerd, resultaat.gequarantaineerd, resultaat.mislukt) == (
        40,
        40,
        0,
        0,
    )
    batch, per_melding = batch_world.outbox(), per_melding_world.outbox()
    assert set(batch) == set(per_melding) == set(ids)
    for melding_id in ids:
        assert batch[melding_id]["inhoud"] == per_melding[melding_id]["inhoud"], melding_id
        assert batch[melding_id]["versie"] == 1
    # and both say what the sources say (an oracle that does not run the pipeline)
    for record in records:
        for check_id, got in batch_world.outcomes(record["melding_id"]).items():
            assert got == expected(check_id, record["bsn"], record["gemeente_code"]), check_id
    # the counts are the published outcomes, per check
    telling: dict[str, Counter[str]] = {}
    for melding_id in ids:
        for check_id, (uitkomst, _) in batch_world.outcomes(melding_id).items():
            telling.setdefault(check_id, Counter())[uitkomst] += 1
    assert {c: {u: n for u, n in t.items() if n} for c, t in resultaat.uitkomsten.items()} == {
        c: dict(t) for c, t in telling.items()
    }
    # inbox: published, claim released; documents published; plan and log as the per-melding path
    assert (
        batch_world.scalar("SELECT COUNT(*) FROM inbox WHERE status = 'gepubliceerd' AND claim IS NULL") == 40
    )
    assert batch_world.scalar("SELECT COUNT(*) FROM basisdocument WHERE status = 'gepubliceerd'") == 40
    for tabel in ("plan", "uitkomst"):
        assert batch_world.scalar(f"SELECT COUNT(*) FROM {tabel}") == per_melding_world.scalar(
            f"SELECT COUNT(*) FROM {tabel}"
        )
    uitgevoerd = batch_world.scalar("SELECT COUNT(*) FROM plan WHERE uitvoeren = 'ja'")
    assert batch_world.scalar("SELECT COUNT(*) FROM verwerkingslog") == uitgevoerd
    assert per_melding_world.scalar("SELECT COUNT(*) FROM verwerkingslog") == uitgevoerd
    # the same pseudonyms, key id and activity ids as the per-melding records
    kolommen = "data_subject_id, processing_activity_id, sleutel_id, name, status_code"
    assert Counter(
        tuple(r.values()) for r in batch_world.rows(f"SELECT {kolommen} FROM verwerkingslog")
    ) == Counter(tuple(r.values()) for r in per_melding_world.rows(f"SELECT {kolommen} FROM verwerkingslog"))
    # the batch writes no per-melding JSON files: Parquet is its file output
    assert not (batch_world.tmp / "outbox").exists()


def test_sources_are_asked_per_chunk_not_per_person(
    batch_world: BatchWorld, hc_server: HaalCentraalSimServer
) -> None:
    from nazorg.store import engine_for

    records = list(meldingen(60, offset=300))
    ids = batch_world.submit(records)
    per_gemeente = Counter(r["gemeente_code"] for r in records)

    bron_statements: list[str] = []
    pipeline_statements: list[str] = []
    bronnen = engine_for("nazorg_bronnen")

    def op_bronnen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        bron_statements.append(statement)

    def op_pipeline(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        pipeline_statements.append(statement)

    event.listen(bronnen, "before_cursor_execute", op_bronnen)
    event.listen(batch_world.store.engine, "before_cursor_execute", op_pipeline)
    hc_server.reset_stats()
    try:
        resultaat = batch_world.verwerk(ids)
    finally:
        event.remove(bronnen, "before_cursor_execute", op_bronnen)
        event.remove(batch_world.store.engine, "before_cursor_execute", op_pipeline)
    assert resultaat.gepubliceerd == 60

    # SQL lookups: per gemeente and enabled SQL source of a check, one probe (for nobody) and
    # one query for all its meldingen (a consent-gated check only if someone consented)
    policy = batch_world.rt.policy
    sql_bronnen = {
        g: sum(
            kind == "gemeentelijk_sql"
            for entry in policy.register.checks
            if entry.id in policy.besluit(g).checks
            for kind in (entry.bron, entry.aanvullende_bron)
        )
        for g in per_gemeente
    }
    lookups = [s for s in bron_statements if " IN " in s.upper() or " IN(" in s.upper()]
    assert sum(sql_bronnen.values()) < len(lookups) <= 2 * sum(sql_bronnen.values()), (
        len(lookups),
        sql_bronnen,
    )
    # BRP Personen: at most 20 BSNs per request, per gemeente and BRP check
    stats = hc_server.stats()["requests"]
    # onderdak (9901) and kinderen ask it about everyone; id_bewijs (9901) confirms its nee's there
    brp_vragen = {
        g: sum(
            entry.bron == "haal_centraal_brp_personen" or bool(gekozen.brp_verbinding)
            for entry in policy.register.checks
            if (gekozen := policy.besluit(g).checks.get(entry.id)) is not None
        )
        for g in per_gemeente
    }
    assert brp_vragen == {"9901": 3, "9902": 1}
    brp_bound = sum(-(-n // 20) * brp_vragen[g] for g, n in per_gemeente.items())
    assert 0 < stats["personen"] <= brp_bound, stats
    # Reisdocumenten: the API takes one BSN per request; only 9901 enables id_bewijs
    assert stats["reisdocumenten"] == per_gemeente["9901"], stats
    # the pipeline DB: one consent query for the whole chunk, no statement per melding
    assert sum("FROM toestemming" in s for s in pipeline_statements) == 1
    assert len(pipeline_statements) < 40, len(pipeline_statements)


def test_the_parquet_file_holds_the_published_rows_partitioned_and_owner_only(
    batch_world: BatchWorld,
) -> None:
    import pyarrow.parquet as pq

    from nazorg.batch import parquet

    records = list(meldingen(12, offset=400))
    ids = batch_world.submit(records)
    batch_world.verwerk(ids, chunk_id="b-parquet-0001")
    outbox = batch_world.outbox()
    files = sorted(batch_world.parquet_dir.rglob("*.parquet"))
    gemeenten = {r["gemeente_code"] for r in records}
    assert [f.relative_to(batch_world.parquet_dir).parts[:1] for f in files] == [
        (f"gemeente_code={g}",) for g in sorted(gemeenten)
    ]
    rows = []
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
        for d in (f.parent, f.parent.parent, batch_world.parquet_dir):
            assert stat.S_IMODE(d.stat().st_mode) == 0o700
        assert f.name == "b-parquet-0001.parquet"
        assert f.parent.name.startswith("datum=")
        table = pq.read_table(f)
        assert table.schema.equals(parquet.SCHEMA, check_metadata=False)
        rows += table.to_pylist()
        # outbox.bestand names the Parquet file of the melding's gemeente
        gemeente = f.parent.parent.name.removeprefix("gemeente_code=")
        assert {outbox[m]["bestand"] for m in ids if outbox[m]["gemeente_code"] == gemeente} == {str(f)}
    assert len(rows) == 13 * len(ids)
    for melding_id in ids:
        document = json.loads(outbox[melding_id]["inhoud"])
        mine = [r for r in rows if r["melding_id"] == melding_id]
        assert {(r["check_id"], r["uitkomst"], r["dossierverantwoordelijke"], r["reden"]) for r in mine} == {
            (c["check_id"], c["uitkomst"], c["dossierverantwoordelijke"], c["reden"])
            for g in document["aandachtsgebieden"]
            for c in g["checks"]
        }
        assert {(r["besluit"], r["register_versie"], r["versie"]) for r in mine} == {
            (document["besluit"], document["register_versie"], 1)
        }
    assert not list(batch_world.parquet_dir.rglob("*.tmp"))


class WorkerKilled(BaseException):
    """A worker SIGKILLed: nothing of the chunk's own code runs any more (no except, no finally)."""


def test_a_chunk_killed_after_its_commit_gets_its_parquet_files_from_the_retry(
    batch_world: BatchWorld, hc_server: HaalCentraalSimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed between the commit and moving the Parquet files into place: the outbox says
    published, the files are not there, and the chunk holds nothing any more. The retried
    task writes the missing files from the outbox, asks nobody, publishes nothing again."""
    import dataclasses

    import pyarrow.parquet as pq

    from nazorg.batch import parquet, verwerk_chunk, verzamel
    from nazorg.wiring import build

    config = dataclasses.replace(batch_world.rt.settings, parquet_dir=batch_world.parquet_dir)
    rt = build(config, store=batch_world.store)
    ids = batch_world.submit(list(meldingen(12, offset=600)))
    (chunk_id,) = verzamel(rt).chunk_ids

    def killed(_bestanden: object) -> None:
        raise WorkerKilled

    with monkeypatch.context() as m:
        m.setattr(parquet, "plaats", killed)
        with pytest.raises(WorkerKilled):
            verwerk_chunk(rt, chunk_id)
    voor = batch_world.outbox()
    assert set(voor) == set(ids)
    bestanden = {Path(r["bestand"]) for r in voor.values()}
    assert bestanden and not any(f.exists() for f in bestanden)
    assert list(batch_world.parquet_dir.rglob("*.tmp")), "the dead writer's temporary files"
    assert batch_world.scalar("SELECT status FROM batch_chunk") == "open"
    assert batch_world.scalar("SELECT COUNT(*) FROM inbox WHERE claim IS NOT NULL") == 0
    logs = batch_world.scalar("SELECT COUNT(*) FROM verwerkingslog")

    hc_server.reset_stats()
    resultaat = verwerk_chunk(rt, chunk_id)
    assert (resultaat.meldingen, resultaat.gepubliceerd) == (12, 12)
    assert batch_world.scalar("SELECT status FROM batch_chunk") == "klaar"
    assert hc_server.stats()["requests"] == {"personen": 0, "reisdocumenten": 0}
    assert batch_world.scalar("SELECT COUNT(*) FROM verwerkingslog") == logs
    assert batch_world.outbox() == voor
    assert sorted(batch_world.parquet_dir.rglob("*.parquet")) == sorted(bestanden)
    assert not list(batch_world.parquet_dir.rglob("*.tmp"))
    rows = []
    for f in bestanden:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
        table = pq.read_table(f)
        assert table.schema.equals(parquet.SCHEMA, check_metadata=False)
        rows += table.to_pylist()
    assert len(rows) == 13 * len(ids)
    for melding_id in ids:
        document = json.loads(voor[melding_id]["inhoud"])
        mine = [r for r in rows if r["melding_id"] == melding_id]
        assert {(r["check_id"], r["uitkomst"], r["dossierverantwoordelijke"], r["reden"]) for r in mine} == {
            (c["check_id"], c["uitkomst"], c["dossierverantwoordelijke"], c["reden"])
            for g in document["aandachtsgebieden"]
            for c in g["checks"]
        }
        assert {(r["besluit"], r["register_versie"], r["versie"]) for r in mine} == {
            (document["besluit"], document["register_versie"], 1)
        }
        assert {r["gepubliceerd_op"].isoformat(timespec="milliseconds") for r in mine} == {
            voor[melding_id]["gepubliceerd_op"]
        }
    # once klaar, a further retry touches nothing
    mtimes = {f: f.stat().st_mtime_ns for f in bestanden}
    verwerk_chunk(rt, chunk_id)
    assert {f: f.stat().st_mtime_ns for f in bestanden} == mtimes


def test_a_chunk_killed_before_its_commit_leaves_no_temporary_file_after_its_retry(
    batch_world: BatchWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after writing its Parquet files under temporary names, before the commit: no
    cleanup ran. The retry processes the chunk (it still holds every claim), moves its own
    files into place and removes the dead run's temporary files, which hold outcomes."""
    from nazorg.batch import parquet

    ids = batch_world.submit(list(meldingen(6, offset=700)))

    def killed(*_args: object, **_kwargs: object) -> None:
        raise WorkerKilled

    with monkeypatch.context() as m:
        m.setattr(chunk, "_schrijf_rijen", killed)
        m.setattr(parquet, "ruim_op", lambda _bestanden: None)  # a SIGKILL runs no cleanup
        with pytest.raises(WorkerKilled):
            batch_world.verwerk(ids, chunk_id="b-wees-0001")
    wezen = list(batch_world.parquet_dir.rglob("*.tmp"))
    assert wezen and not list(batch_world.parquet_dir.rglob("*.parquet"))
    assert batch_world.scalar("SELECT COUNT(*) FROM outbox") == 0

    resultaat = batch_world.verwerk(ids, chunk_id="b-wees-0001", claim=False)
    assert resultaat.gepubliceerd == 6
    assert list(batch_world.parquet_dir.rglob("*.parquet"))
    assert not list(batch_world.parquet_dir.rglob("*.tmp"))


def test_a_rerun_publishes_nothing_twice(batch_world: BatchWorld, hc_server: HaalCentraalSimServer) -> None:
    records = list(meldingen(10, offset=500))
    ids = batch_world.submit(records)
    eerste = batch_world.verwerk(ids, chunk_id="b-rerun-0001")
    assert eerste.gepubliceerd == 10
    voor = batch_world.outbox()
    logs = batch_world.scalar("SELECT COUNT(*) FROM verwerkingslog")
    bestand = sorted(batch_world.parquet_dir.rglob("*.parquet"))
    mtimes = [f.stat().st_mtime_ns for f in bestand]

    # the same chunk again (a retried task after its commit): it holds nothing, asks nobody
    hc_server.reset_stats()
    tweede = batch_world.verwerk(ids, chunk_id="b-rerun-0001", claim=False)
    assert (tweede.gepubliceerd, tweede.gequarantaineerd, tweede.mislukt) == (0, 0, 0)
    assert hc_server.stats()["requests"] == {"personen": 0, "reisdocumenten": 0}
    assert batch_world.scalar("SELECT COUNT(*) FROM verwerkingslog") == logs
    assert [f.stat().st_mtime_ns for f in bestand] == mtimes

    # the same meldingen claimed by a new chunk: the sources are asked again (and logged),
    # but an unchanged document is not published again
    derde = batch_world.verwerk(ids, chunk_id="b-rerun-0002")
    assert derde.gepubliceerd == 10
    assert batch_world.outbox() == voor
    assert batch_world.scalar("SELECT COUNT(*) FROM outbox") == 10
    assert batch_world.scalar("SELECT COUNT(*) FROM verwerkingslog") == 2 * logs
    assert not [f for f in batch_world.parquet_dir.rglob("*.parquet") if "b-rerun-0002" in f.name]
    assert batch_world.scalar("SELECT COUNT(*) FROM inbox WHERE claim IS NOT NULL") == 0


def test_a_claim_taken_over_while_the_chunk_runs_gets_no_write(
    batch_world: BatchWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = list(meldingen(6, offset=600))
    ids = batch_world.submit(records)
    overgenomen = ids[0]
    echte_bewaking = chunk.bewaking.bewaak

    def neemt_over(*args, **kwargs):  # type: ignore[no-untyped-def]
        # meanwhile the claim expired and a per-melding run took the melding
        with batch_world.store.engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE inbox SET claim = 'run:r-anders' WHERE melding_id = '" + overgenomen + "'"
            )
        return echte_bewaking(*args, **kwargs)

    monkeypatch.setattr(chunk.bewaking, "bewaak", neemt_over)
    resultaat = batch_world.verwerk(ids)
    assert resultaat.gepubliceerd == 5
    assert overgenomen not in batch_world.outbox()
    assert batch_world.scalar("SELECT COUNT(*) FROM uitkomst WHERE melding_id = :m", m=overgenomen) == 0
    assert batch_world.scalar("SELECT status FROM inbox WHERE melding_id = :m", m=overgenomen) == "ontvangen"
    assert (
        batch_world.scalar("SELECT claim FROM inbox WHERE melding_id = :m", m=overgenomen) == "run:r-anders"
    )
    # its sources were asked all the same: every executed check has its record
    uitgevoerd = batch_world.scalar("SELECT COUNT(*) FROM plan WHERE uitvoeren = 'ja'")
    assert batch_world.scalar("SELECT COUNT(*) FROM verwerkingslog") > uitgevoerd

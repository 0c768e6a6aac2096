"""Claims: a melding is never in a batch chunk and a per-melding run at once, nor in two batches.

On SQLite and PostgreSQL (``wereld``), in-process, without sources: claiming and
refusing happen before any source is asked.
"""

# ruff: noqa: F811  (the fixture `wereld` is imported from tests.batch.wereld)
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from nazorg import pipeline
from nazorg.batch import verzamel
from nazorg.batch.verzamel import MAX_CHUNKS, chunk_grootte_voor
from nazorg.models import Fase
from nazorg_dev.sim.meldingen import meldingen
from tests.batch.wereld import Batchwereld, wereld  # noqa: F401  (fixture)

pytestmark = pytest.mark.pipeline
LATER = timedelta(days=2)  # past every lease (a run's and a chunk's)


def test_verzamel_claims_every_new_melding_once_in_chunks(wereld: Batchwereld) -> None:
    ids = wereld.submit(list(meldingen(35)))
    v = verzamel(wereld.rt, chunk_grootte=10)
    assert (v.meldingen, v.herhalingen, len(v.chunk_ids)) == (35, 0, 4)
    assert all(c.startswith(v.batch_id + "-") for c in v.chunk_ids)
    sizes = wereld.rows("SELECT chunk_id, meldingen, status FROM batch_chunk ORDER BY volgnummer")
    assert [(c, n, s) for c, n, s in sizes] == [(c, n, "open") for c, n in zip(v.chunk_ids, [10, 10, 10, 5])]
    claims = dict(wereld.rows("SELECT melding_id, claim FROM inbox"))
    per_chunk = dict(wereld.rows("SELECT melding_id, chunk_id FROM batch_chunk_melding"))
    assert set(per_chunk) == set(ids)
    assert all(claims[m] == f"chunk:{per_chunk[m]}" for m in ids)
    assert {s for (s,) in wereld.rows("SELECT DISTINCT soort FROM batch_chunk_melding")} == {"nieuw"}
    # a second batch finds nothing: every melding is under a live claim
    again = verzamel(wereld.rt, chunk_grootte=10)
    assert (again.meldingen, again.chunk_ids) == (0, [])


def test_a_live_chunk_claim_refuses_a_per_melding_run_and_changes_nothing(wereld: Batchwereld) -> None:
    (melding_id,) = wereld.submit(list(meldingen(1)))
    verzamel(wereld.rt)
    before = wereld.inbox(melding_id)
    key = wereld.key(melding_id)
    with pytest.raises(pipeline.InBatch) as info:
        pipeline.ontvang(wereld.rt, key)
    assert "in_batch" in str(info.value) and key in str(info.value)
    assert melding_id not in str(info.value)
    assert wereld.inbox(melding_id) == before == ("ontvangen", before[1])
    assert wereld.rows("SELECT COUNT(*) FROM quarantaine") == [(0,)]
    # a failing step of a per-melding run does not close a melding the batch holds either
    assert not pipeline._sluit_af(
        wereld.store, melding_id, Fase.PLAN, "intern_fout", None, claim=pipeline.run_claim(key)
    )
    assert wereld.inbox(melding_id) == before


def test_the_per_melding_task_skips_a_melding_a_chunk_holds_instead_of_failing(
    wereld: Batchwereld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch swept the melding between its trigger and its first task: the run skips, it does not fail."""
    from airflow.sdk.exceptions import AirflowSkipException

    from nazorg.airflow import tasks

    (melding_id,) = wereld.submit(list(meldingen(1)))
    verzamel(wereld.rt)
    key = wereld.key(melding_id)
    monkeypatch.setattr(tasks, "_runtime", lambda: wereld.rt)
    with pytest.raises(AirflowSkipException) as info:
        tasks.ontvang(SimpleNamespace(conf={"run_key": key}))
    assert "in_batch" in str(info.value) and melding_id not in str(info.value)
    assert wereld.rows("SELECT COUNT(*) FROM quarantaine") == [(0,)]


def test_a_live_run_claim_keeps_the_batch_away_until_its_lease_passes(wereld: Batchwereld) -> None:
    ids = wereld.submit(list(meldingen(3)))
    key = wereld.key(ids[0])
    pipeline.ontvang(wereld.rt, key)
    assert wereld.inbox(ids[0]) == ("in_behandeling", f"run:{key}")
    pipeline.ontvang(wereld.rt, key)  # the run's own claim: a retried ontvang takes it again
    v = verzamel(wereld.rt)
    assert v.meldingen == 2
    assert wereld.inbox(ids[0]) == ("in_behandeling", f"run:{key}")
    # the run was lost (its lease is the DAG run's timeout): a later batch takes the melding over
    later = verzamel(wereld.rt, nu=datetime.now(UTC) + LATER)
    assert later.meldingen == 3  # the lost run's melding and the two whose chunk lease passed too
    _, claim = wereld.inbox(ids[0])
    assert claim is not None and claim.startswith(f"chunk:{later.batch_id}-")


def test_a_chunk_whose_worker_was_lost_is_taken_over_after_its_lease(wereld: Batchwereld) -> None:
    ids = wereld.submit(list(meldingen(4)))
    first = verzamel(wereld.rt, chunk_grootte=2)
    wereld.sql("UPDATE inbox SET status = 'in_behandeling'")  # halfway, then the worker died
    assert verzamel(wereld.rt).meldingen == 0  # lease not passed yet
    second = verzamel(wereld.rt, nu=datetime.now(UTC) + LATER)
    assert second.meldingen == 4 and second.batch_id != first.batch_id
    assert {c for _, c in (wereld.inbox(m) for m in ids)} == {f"chunk:{c}" for c in second.chunk_ids}


def test_ending_a_run_ends_its_claim(wereld: Batchwereld) -> None:
    ids = wereld.submit(list(meldingen(2)))
    keys = [wereld.key(m) for m in ids]
    for key in keys:
        pipeline.ontvang(wereld.rt, key)
    assert pipeline._sluit_af(wereld.store, ids[0], Fase.PLAN, "intern_fout", None, claim=f"run:{keys[0]}")
    assert wereld.inbox(ids[0]) == ("mislukt", None)
    pipeline._block(wereld.store, ids[1], Fase.BEWAAK, "overcollectie", [("x", None)])
    assert wereld.inbox(ids[1]) == ("geblokkeerd", None)
    # neither is collected: a failed melding waits for its cause to be fixed, a blocked one stays
    assert verzamel(wereld.rt).meldingen == 0
    # a new per-melding run may retake the failed one
    pipeline.ontvang(wereld.rt, keys[0])
    assert wereld.inbox(ids[0]) == ("in_behandeling", f"run:{keys[0]}")


def test_two_concurrent_batches_never_share_a_melding(wereld: Batchwereld) -> None:
    ids = wereld.submit(list(meldingen(60)))
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = verzamel(wereld.rt, chunk_grootte=7)
        except Exception as exc:  # reported below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(isinstance(r, Exception) for r in results), results
    a, b = results
    assert a.meldingen + b.meldingen == len(ids)  # type: ignore[union-attr]
    rows = wereld.rows("SELECT melding_id, COUNT(*) FROM batch_chunk_melding GROUP BY melding_id")
    assert sorted(m for m, _ in rows) == sorted(ids)
    assert {n for _, n in rows} == {1}
    chunks = dict(wereld.rows("SELECT chunk_id, meldingen FROM batch_chunk"))
    assert sum(chunks.values()) == len(ids)
    assert set(chunks) == set(a.chunk_ids) | set(b.chunk_ids)  # type: ignore[union-attr]


def test_published_onbekend_outcomes_due_for_retry_are_collected_as_herhaling(wereld: Batchwereld) -> None:
    ids = wereld.submit(list(meldingen(4)))
    nu = datetime.now(UTC)
    verleden = (nu - timedelta(minutes=1)).isoformat(timespec="milliseconds")
    toekomst = (nu + timedelta(minutes=30)).isoformat(timespec="milliseconds")
    wereld.sql("UPDATE inbox SET status = 'gepubliceerd'")
    rows = [
        (ids[0], "bron_fout", 1, verleden),  # due
        (ids[1], "bron_fout", 1, toekomst),  # not yet
        (ids[2], "bron_fout", 3, verleden),  # no attempts left (max 3)
        (ids[3], "bron_ambigu", 1, None),  # not a source that was down: never retried
    ]
    for melding_id, reden, pogingen, volgende in rows:
        wereld.sql(
            "INSERT INTO uitkomst (melding_id, check_id, aandachtsgebied, uitkomst, dossierverantwoordelijke,"
            " reden, processing_activity_id, bepaald_op, pogingen, volgende_poging)"
            " VALUES (:m, 'onderdak', 'huisvesting_onderdak', 'onbekend', NULL, :r, 'onderdak@v1', :nu,"
            " :p, :v)",
            m=melding_id,
            r=reden,
            nu=nu.isoformat(),
            p=pogingen,
            v=volgende,
        )
    v = verzamel(wereld.rt, nu=nu)
    assert (v.meldingen, v.herhalingen) == (1, 1)
    assert wereld.rows("SELECT melding_id, soort FROM batch_chunk_melding") == [(ids[0], "herhaling")]
    # half an hour later the second is due too; the first is still held by its chunk (lease: an hour)
    assert verzamel(wereld.rt, nu=nu + timedelta(minutes=31)).meldingen == 1


def _maak_grafsteen(wereld: Batchwereld, melding_ids: list[str]) -> None:
    """What retention does to a melding whose every term has run (nazorg.bewaartermijn)."""
    wereld.store.execute(
        "bewaartermijn/inbox_grafsteen",
        {
            "melding_ids": melding_ids,
            "nu": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "ontvangen": "ontvangen",
            "in_behandeling": "in_behandeling",
            "mislukt": "mislukt",
        },
    )


def test_a_run_for_a_tombstone_is_refused_with_a_reason_and_changes_nothing(
    wereld: Batchwereld, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = wereld.submit(list(meldingen(2)))
    keys = [wereld.key(m) for m in ids]
    gelezen = pipeline._melding(wereld.store, keys[1])  # read before retention made it a tombstone
    _maak_grafsteen(wereld, ids)
    before = wereld.rows("SELECT * FROM inbox ORDER BY melding_id")
    assert wereld.inbox(ids[0]) == ("mislukt", None)  # unfinished: closed by retention
    with pytest.raises(pipeline.Verwijderd) as info:
        pipeline.ontvang(wereld.rt, keys[0])
    assert "melding_verwijderd" in str(info.value) and keys[0] in str(info.value)
    assert ids[0] not in str(info.value)
    # made a tombstone between the run's read and its claim: the claim itself refuses it
    monkeypatch.setattr(pipeline, "_melding", lambda store, run_key: gelezen)
    with pytest.raises(pipeline.Verwijderd):
        pipeline.ontvang(wereld.rt, keys[1])
    assert wereld.rows("SELECT * FROM inbox ORDER BY melding_id") == before
    assert wereld.rows("SELECT COUNT(*) FROM quarantaine") == [(0,)]


def test_a_batch_never_claims_a_tombstone(wereld: Batchwereld) -> None:
    ids = wereld.submit(list(meldingen(3)))
    nu = datetime.now(UTC)
    _maak_grafsteen(wereld, ids[:2])
    # states retention does not leave, but that a batch must refuse all the same (no BSN to
    # check): a tombstone still ontvangen, and a published one with an outcome due for retry
    wereld.sql("UPDATE inbox SET status = 'ontvangen' WHERE melding_id = :m", m=ids[0])
    wereld.sql("UPDATE inbox SET status = 'gepubliceerd' WHERE melding_id = :m", m=ids[1])
    wereld.sql(
        "INSERT INTO uitkomst (melding_id, check_id, aandachtsgebied, uitkomst, dossierverantwoordelijke,"
        " reden, processing_activity_id, bepaald_op, pogingen, volgende_poging)"
        " VALUES (:m, 'onderdak', 'huisvesting_onderdak', 'onbekend', NULL, 'bron_fout', 'onderdak@v1',"
        " :nu, 1, :v)",
        m=ids[1],
        nu=nu.isoformat(),
        v=(nu - timedelta(minutes=1)).isoformat(timespec="milliseconds"),
    )
    v = verzamel(wereld.rt, nu=nu)
    assert (v.meldingen, v.herhalingen) == (1, 0)
    assert wereld.rows("SELECT melding_id FROM batch_chunk_melding") == [(ids[2],)]
    assert wereld.inbox(ids[0])[1] is None and wereld.inbox(ids[1])[1] is None


@pytest.mark.unit
def test_a_batch_never_has_more_chunks_than_airflow_may_map() -> None:
    assert chunk_grootte_voor(50_000, 1000) == 1000
    assert chunk_grootte_voor(35, 10) == 10
    for meldingen_, gewenst in [(1_000_000, 1000), (513, 1), (10**7, 10)]:
        grootte = chunk_grootte_voor(meldingen_, gewenst)
        assert -(-meldingen_ // grootte) <= MAX_CHUNKS < 1024
    with pytest.raises(ValueError):
        chunk_grootte_voor(10, 0)

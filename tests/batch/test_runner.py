"""The batch runner around a chunk's processing: exactly once, fail closed, counts from the DB.

``nazorg.batch.chunk.verwerk`` is replaced by a test stand-in (tests/batch/standin.py)
that keeps its contract; what is tested here is the orchestration around it.
"""

# ruff: noqa: F811  (the fixture `wereld` is imported from tests.batch.wereld)
from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nazorg.batch import (
    BatchMislukt,
    ChunkOnbekend,
    onvoltooide_chunks,
    run_batch,
    sluit_batch,
    verwerk_chunk,
    verzamel,
)
from nazorg.sources.live import LiveSources
from nazorg.wiring import LiveSourcesFactory, Runtime
from nazorg_dev.sim.meldingen import meldingen
from tests.batch import standin
from tests.batch.wereld import Batchwereld, wereld  # noqa: F401  (fixture)

pytestmark = pytest.mark.pipeline


class WorkerKilled(BaseException):
    """Like Airflow's task timeout or termination: not an error of the chunk."""


@pytest.fixture
def chunk(monkeypatch: pytest.MonkeyPatch) -> Iterator[standin.Eenvoudig]:
    fake = standin.Eenvoudig()
    monkeypatch.setitem(sys.modules, "nazorg.batch.chunk", None)  # restored afterwards
    standin.installeer(fake.verwerk)
    yield fake


def test_run_batch_publishes_every_melding_once_and_a_rerun_nothing(
    wereld: Batchwereld, chunk: standin.Eenvoudig
) -> None:
    ids = wereld.submit(list(meldingen(23)))
    started: list[tuple[int, int]] = []
    seen: list[int] = []
    s = run_batch(
        wereld.rt,
        chunk_grootte=10,
        bij_start=lambda c, m: started.append((c, m)),
        bij_chunk=lambda r: seen.append(r.meldingen),
    )
    assert started == [(3, 23)] and seen == [10, 10, 3]
    assert (s.chunks, s.meldingen, s.gepubliceerd, s.gequarantaineerd, s.mislukt) == (3, 23, 23, 0, 0)
    assert s.seconden > 0
    assert wereld.rows("SELECT COUNT(*) FROM outbox") == [(23,)]
    assert wereld.rows("SELECT COUNT(*) FROM inbox WHERE claim IS NOT NULL") == [(0,)]
    assert {s for (s,) in wereld.rows("SELECT status FROM batch_chunk")} == {"klaar"}
    assert sorted(m for _, ms, _ in chunk.calls for m in ms) == sorted(ids)
    again = run_batch(wereld.rt, chunk_grootte=10)
    assert (again.chunks, again.meldingen, again.gepubliceerd) == (0, 0, 0)
    assert len(chunk.calls) == 3 and wereld.rows("SELECT COUNT(*) FROM outbox") == [(23,)]


def test_run_batch_keeps_one_set_of_live_sources_with_a_fresh_deadline_per_chunk(
    wereld: Batchwereld, chunk: standin.Eenvoudig
) -> None:
    """Connections outlive a chunk in ``nazorg batch``; each chunk's time for questions is its own."""
    geopend: list[LiveSources] = []

    class Tellend(LiveSourcesFactory):
        def __call__(self) -> LiveSources:
            bronnen = super().__call__()
            geopend.append(bronnen)
            return bronnen

    gezien: list[tuple[Any, float]] = []

    def verwerk(rt: Runtime, chunk_id: str, *args: Any, **kwargs: Any) -> Any:
        with rt.open_sources() as bronnen:
            gezien.append((bronnen, bronnen.task_deadline.at))
            time.sleep(0.01)
        return chunk.verwerk(rt, chunk_id, *args, **kwargs)

    standin.installeer(verwerk)
    wereld.submit(list(meldingen(5)))
    s = run_batch(dataclasses.replace(wereld.rt, open_sources=Tellend(wereld.rt.settings)), chunk_grootte=2)

    assert s.gepubliceerd == 5 and len(gezien) == 3 and len(geopend) == 1
    assert all(bronnen is geopend[0] for bronnen, _ in gezien)
    deadlines = [at for _, at in gezien]
    assert deadlines == sorted(deadlines) and len(set(deadlines)) == 3


def test_a_chunk_run_again_does_nothing_twice(wereld: Batchwereld, chunk: standin.Eenvoudig) -> None:
    wereld.submit(list(meldingen(5)))
    (chunk_id,) = verzamel(wereld.rt).chunk_ids
    first = verwerk_chunk(wereld.rt, chunk_id)
    second = verwerk_chunk(wereld.rt, chunk_id)  # an Airflow retry after the task was marked failed
    assert len(chunk.calls) == 1
    assert (first.meldingen, first.gepubliceerd) == (second.meldingen, second.gepubliceerd) == (5, 5)
    # processed but killed before the chunk was marked klaar: the retry finds nothing held
    wereld.sql("UPDATE batch_chunk SET status = 'open', klaar_op = NULL")
    third = verwerk_chunk(wereld.rt, chunk_id)
    assert len(chunk.calls) == 1 and third.gepubliceerd == 5
    assert wereld.rows("SELECT COUNT(*) FROM outbox") == [(5,)]


def test_a_worker_killed_mid_chunk_leaves_the_claims_for_the_retry(
    wereld: Batchwereld, chunk: standin.Eenvoudig
) -> None:
    ids = wereld.submit(list(meldingen(4)))
    (chunk_id,) = verzamel(wereld.rt).chunk_ids
    chunk.fail_with = WorkerKilled()
    with pytest.raises(WorkerKilled):
        verwerk_chunk(wereld.rt, chunk_id)
    assert {wereld.inbox(m) for m in ids} == {("ontvangen", f"chunk:{chunk_id}")}
    assert wereld.rows("SELECT COUNT(*) FROM outbox") == [(0,)]  # rolled back with the worker
    chunk.fail_with = None
    assert verwerk_chunk(wereld.rt, chunk_id).gepubliceerd == 4
    assert wereld.rows("SELECT COUNT(*) FROM outbox") == [(4,)]


def test_a_failing_chunk_closes_its_meldingen_mislukt_without_a_value(
    wereld: Batchwereld, chunk: standin.Eenvoudig
) -> None:
    records = list(meldingen(12))
    ids = wereld.submit(records)
    v = verzamel(wereld.rt, chunk_grootte=6)
    first_chunk = {
        m
        for (m,) in wereld.rows(
            "SELECT melding_id FROM batch_chunk_melding WHERE chunk_id = :c", c=v.chunk_ids[0]
        )
    }
    chunk.fail_with = ValueError(f"bron zei {records[0]['bsn']} en Team X")
    with pytest.raises(BatchMislukt) as info:
        verwerk_chunk(wereld.rt, v.chunk_ids[0])
    message = str(info.value)
    assert v.chunk_ids[0] in message and "intern_fout" in message and "ValueError" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert not any(r["bsn"] in message or r["melding_id"] in message for r in records)
    assert "Team X" not in message
    assert {wereld.inbox(m) for m in first_chunk} == {("mislukt", None)}
    quarantaine = wereld.rows("SELECT melding_id, fase, reden_code, veld FROM quarantaine")
    assert sorted(quarantaine) == sorted((m, "batch", "intern_fout", None) for m in first_chunk)
    assert wereld.rows("SELECT status FROM batch_chunk WHERE chunk_id = :c", c=v.chunk_ids[0]) == [
        ("mislukt",)
    ]
    # a retry of the failed task fails again at once, so the DAG run shows it
    with pytest.raises(BatchMislukt, match="eerder mislukt"):
        verwerk_chunk(wereld.rt, v.chunk_ids[0])
    # the other chunk is not affected
    chunk.fail_with = None
    assert verwerk_chunk(wereld.rt, v.chunk_ids[1]).gepubliceerd == 6
    s = sluit_batch(wereld.rt, v.batch_id)
    assert (s.chunks, s.meldingen, s.gepubliceerd, s.mislukt) == (2, 12, 6, 6)
    assert onvoltooide_chunks(wereld.rt, v.batch_id) == {"mislukt": 1}
    # failed meldingen wait for their cause to be fixed: the next batch does not take them
    assert verzamel(wereld.rt).meldingen == 0
    assert len(ids) == 12


def test_run_batch_goes_on_after_a_failing_chunk_and_counts_it(
    wereld: Batchwereld, chunk: standin.Eenvoudig, monkeypatch: pytest.MonkeyPatch
) -> None:
    wereld.submit(list(meldingen(9)))
    original = chunk.verwerk
    calls = 0

    def second_fails(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("kapot")
        return original(*args, **kwargs)

    standin.installeer(second_fails)
    results = []
    s = run_batch(wereld.rt, chunk_grootte=3, bij_chunk=results.append)
    assert [(r.gepubliceerd, r.mislukt) for r in results] == [(3, 0), (0, 3), (3, 0)]
    assert (s.chunks, s.gepubliceerd, s.mislukt) == (3, 6, 3)


def test_a_failed_retry_counts_as_an_attempt_and_backs_off(
    wereld: Batchwereld, chunk: standin.Eenvoudig
) -> None:
    (melding_id,) = wereld.submit(list(meldingen(1)))
    nu = datetime.now(UTC)
    wereld.sql("UPDATE inbox SET status = 'gepubliceerd'")
    wereld.sql(
        "INSERT INTO uitkomst (melding_id, check_id, aandachtsgebied, uitkomst, dossierverantwoordelijke,"
        " reden, processing_activity_id, bepaald_op, pogingen, volgende_poging)"
        " VALUES (:m, 'onderdak', 'huisvesting_onderdak', 'onbekend', NULL, 'bron_onbereikbaar',"
        " 'onderdak@v1', :nu, 1, :v)",
        m=melding_id,
        nu=nu.isoformat(),
        v=(nu - timedelta(seconds=1)).isoformat(timespec="milliseconds"),
    )
    v = verzamel(wereld.rt, nu=nu)
    chunk.fail_with = RuntimeError("bron weg")
    with pytest.raises(BatchMislukt):
        verwerk_chunk(wereld.rt, v.chunk_ids[0])
    # still published, not closed; the attempt counted; the claim ended
    assert wereld.inbox(melding_id) == ("gepubliceerd", None)
    ((pogingen, volgende),) = wereld.rows("SELECT pogingen, volgende_poging FROM uitkomst")
    assert pogingen == 2 and volgende > nu.isoformat()
    # the next attempt is due after the backoff; then the stand-in fills it in
    chunk.fail_with = None
    later = verzamel(wereld.rt, nu=nu + timedelta(seconds=wereld.rt.settings.batch_backoff_s * 2 + 1))
    assert later.herhalingen == 1
    verwerk_chunk(wereld.rt, later.chunk_ids[0])
    assert chunk.calls[-1][2] == {melding_id: {"onderdak"}}
    assert wereld.rows("SELECT uitkomst, pogingen, volgende_poging FROM uitkomst") == [("ja", 3, None)]


def test_ids_that_are_not_ours_are_refused_without_repeating_them(wereld: Batchwereld) -> None:
    for bad in ("999990019", "b20260102100000-abcdef-0001; DROP", ""):
        with pytest.raises(ChunkOnbekend) as info:
            verwerk_chunk(wereld.rt, bad)
        assert bad not in str(info.value) or bad == ""
        with pytest.raises(ChunkOnbekend):
            sluit_batch(wereld.rt, bad)
    with pytest.raises(ChunkOnbekend, match="niet in de pipeline-DB"):
        verwerk_chunk(wereld.rt, "b20260102100000-abcdef-0001")

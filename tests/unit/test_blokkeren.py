"""A blocked melding stays blocked: no outcome, document or status change gets past a block.

The race test runs a block and a writer of outcomes on the same melding in two
threads, many times over, on SQLite and on PostgreSQL. Which one wins differs
per round and is not asserted; what is asserted is the invariant: after both
are done, a blocked melding has nothing staged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import text

from nazorg import migrations, pipeline
from nazorg.models import (
    Aandachtsgebied,
    CheckResult,
    ContactHerkomst,
    DocumentStatus,
    Fase,
    MeldingStatus,
    Uitkomst,
)
from nazorg.run_key import nieuwe_run_key
from nazorg.store import Store, now
from nazorg_dev.sim.meldingen import meldingen

ROUNDS = 60
CHECKS = ("schuld_cjib", "schuldhulpverlening", "huurschuld")


@pytest.fixture
def store(empty_pipeline_engine: Any) -> Iterator[Store]:
    migrations.upgrade(empty_pipeline_engine)
    yield Store(empty_pipeline_engine)


def _nieuwe_melding(
    store: Store, melding_id: str, status: MeldingStatus = MeldingStatus.IN_BEHANDELING
) -> str:
    """Put a melding in the inbox; its run key (what the pipeline steps take)."""
    record = next(meldingen(1))
    run_key = nieuwe_run_key()
    with store.transaction() as conn:
        conn.execute(
            text(
                "INSERT INTO inbox (melding_id, run_key, bsn, gemeente_code, inrichting, datum_binnenkomst, "
                "inhoud_hash, status, ontvangen_op, bijgewerkt_op) "
                "VALUES (:m, :k, :bsn, :g, :i, :d, 'h', :s, :nu, :nu)"
            ),
            {
                "m": melding_id,
                "k": run_key,
                "bsn": record["bsn"],
                "g": record["gemeente_code"],
                "i": record["inrichting"],
                "d": record["datum_binnenkomst"],
                "s": status.value,
                "nu": now(),
            },
        )
    return run_key


def _status(store: Store, melding_id: str) -> str:
    return str(store.query("inbox_get", {"melding_id": melding_id})[0]["status"])


def _blokkeer(store: Store, melding_id: str) -> None:
    pipeline._block(store, melding_id, Fase.CHECK, "lookup_kolommen_onjuist", [("extra_kolom", None)])


def _schrijf_uitkomsten(store: Store, melding_id: str) -> None:
    """What the check tasks do for each planned check; stops at the first refusal, as a task does."""
    for check_id in CHECKS:
        result = CheckResult(check_id, Uitkomst.JA, "Team Schulden", contact_herkomst=ContactHerkomst.BRON)
        try:
            pipeline._bewaar_uitkomst(store, melding_id, Aandachtsgebied.SCHULDEN, f"{check_id}@v1", result)
        except pipeline.Geblokkeerd:
            return


def _samen(*steps: Callable[[], None]) -> None:
    """Start the steps at the same moment in their own threads; re-raise what any of them raised."""
    barrier = threading.Barrier(len(steps))
    errors: list[BaseException] = []

    def run(step: Callable[[], None]) -> None:
        try:
            barrier.wait()
            step()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def test_outcomes_racing_a_block_are_purged_or_refused(store: Store) -> None:
    left_behind = []
    for round_ in range(ROUNDS):
        melding_id = f"RACE-{round_:04d}"
        _nieuwe_melding(store, melding_id)
        _samen(lambda m=melding_id: _blokkeer(store, m), lambda m=melding_id: _schrijf_uitkomsten(store, m))
        assert _status(store, melding_id) == MeldingStatus.GEBLOKKEERD
        if store.query("uitkomst_for", {"melding_id": melding_id}):
            left_behind.append(melding_id)
    assert left_behind == [], f"{len(left_behind)} of {ROUNDS} blocked meldingen kept staged outcomes"


def test_a_block_purges_and_quarantines_in_one_go(store: Store) -> None:
    _nieuwe_melding(store, "BLOK-1")
    _schrijf_uitkomsten(store, "BLOK-1")
    assert len(store.query("uitkomst_for", {"melding_id": "BLOK-1"})) == len(CHECKS)
    _blokkeer(store, "BLOK-1")
    assert store.query("uitkomst_for", {"melding_id": "BLOK-1"}) == []
    rows = [q for q in store.query("quarantaine_list") if q["melding_id"] == "BLOK-1"]
    assert [(q["fase"], q["reden_code"], q["veld"]) for q in rows] == [
        ("check", "lookup_kolommen_onjuist", "extra_kolom")
    ]
    with pytest.raises(pipeline.Geblokkeerd, match="melding is geblokkeerd") as info:
        pipeline._bewaar_uitkomst(
            store,
            "BLOK-1",
            Aandachtsgebied.SCHULDEN,
            "x@v1",
            CheckResult("schuld_cjib", Uitkomst.NEE, "T", contact_herkomst=ContactHerkomst.BRON),
        )
    assert "BLOK-1" not in str(info.value)  # task logs never name the sender's melding id
    assert store.query("uitkomst_for", {"melding_id": "BLOK-1"}) == []


class _NiemandsVraag:
    """An adapter that may be tried for nobody (the plan's probe) but never asked about a person."""

    def toets(self, vraag: Any) -> None:
        return None

    def answer(self, vraag: Any, gevallen: Any) -> Any:
        raise AssertionError("these steps must not ask a source about anyone")


class _GeenBronnen:
    def __enter__(self) -> _GeenBronnen:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def adapter(self, kind: str) -> Any:
        return _NiemandsVraag()


@pytest.fixture
def rt(store: Store) -> Any:
    from nazorg.wiring import build

    return build(store=store, sources=_GeenBronnen)


def test_no_step_leads_out_of_a_block(rt: Any) -> None:
    store = rt.store
    record = next(meldingen(1))
    melding_id = record["melding_id"]
    run_key = _nieuwe_melding(store, melding_id, MeldingStatus.ONTVANGEN)
    pipeline.ontvang(rt, run_key)
    pipeline.plan(rt, run_key)
    staged = store.query("uitkomst_for", {"melding_id": melding_id})
    assert staged, "plan records niet_uitgevoerd outcomes"
    _blokkeer(store, melding_id)

    for step in (pipeline.ontvang, pipeline.plan, pipeline.stel_basisdocument_op, pipeline.bewaak):
        with pytest.raises(pipeline.Geblokkeerd):
            step(rt, run_key)
        assert _status(store, melding_id) == MeldingStatus.GEBLOKKEERD, step.__name__
        assert store.query("uitkomst_for", {"melding_id": melding_id}) == [], step.__name__
        assert store.query("basisdocument_get", {"melding_id": melding_id}) == [], step.__name__
    # the plan of the blocked run is kept as it was: a re-run does not replace it
    assert store.query("plan_for", {"melding_id": melding_id})


def test_an_approved_document_of_a_blocked_melding_is_not_published(rt: Any, tmp_path: Any) -> None:
    """Blocked between bewaak and publiceer (the purge of another task not yet visible): refused."""
    store = rt.store
    run_key = _nieuwe_melding(store, "BLOK-2")
    with store.transaction() as conn:
        store.execute(
            "basisdocument_upsert",
            {
                "melding_id": "BLOK-2",
                "gemeente_code": "9901",
                "status": DocumentStatus.GOEDGEKEURD.value,
                "inhoud": "{}",
                "register_versie": "1",
                "nu": now(),
            },
            conn=conn,
        )
        conn.execute(
            text("UPDATE inbox SET status = :s WHERE melding_id = 'BLOK-2'"),
            {"s": MeldingStatus.GEBLOKKEERD.value},
        )
    with pytest.raises(pipeline.Geblokkeerd):
        pipeline.publiceer(rt, run_key, directory=tmp_path)
    assert store.query("outbox_get", {"melding_id": "BLOK-2"}) == []
    assert not list(tmp_path.rglob("*.json"))
    assert _status(store, "BLOK-2") == MeldingStatus.GEBLOKKEERD


def test_an_unknown_melding_is_reported_as_unknown(rt: Any) -> None:
    with pytest.raises(pipeline.MeldingOnbekend, match="ongeldig formaat"):
        pipeline.ontvang(rt, "BESTAAT-NIET")
    with pytest.raises(pipeline.MeldingOnbekend, match="geen melding in de inbox"):
        pipeline.ontvang(rt, nieuwe_run_key())

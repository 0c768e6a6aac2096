"""Consent per melding (report §3.3.1.2): gated checks run only with it, a withdrawal stops them at once.

Runs on the batch world (SQLite, marker ``pipeline``; PostgreSQL, marker
``integration``): the per-melding steps and batch chunks against the simulated
sources, the real guard. What is checked:

- without consent a ``wanneer: toestemming`` check is ``niet_uitgevoerd``
  (``geen_toestemming``) and unasked; with a recorded consent it runs, for that
  melding only;
- consent recorded after publication marks the check for the next batch, which
  asks it and republishes (outbox ``versie`` + 1);
- a withdrawal turns the outcomes into ``niet_uitgevoerd`` (no answer, no
  contact kept), republishes at once, and no herhaling (batch or per-melding
  run) asks the check again; a chunk or run that planned before the withdrawal
  does not publish the answer it got;
- the toestemming tables hold no BSN.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from nazorg import pipeline, toestemming
from nazorg.batch import chunk as chunk_module
from nazorg.batch import sluit_batch, verwerk_chunk, verzamel
from nazorg.inbox import run_key_voor
from nazorg.models import Aandachtsgebied
from nazorg.processing_log import trace_id_for
from nazorg_dev.sim.meldingen import meldingen
from nazorg_dev.sim.population import Persoon, by_bsn
from tests.batch.conftest import BatchWorld
from tests.oracle import CONSENT_GATED, TRUTH

GATED = tuple(sorted(CONSENT_GATED))
GEEN = ("niet_uitgevoerd", "geen_toestemming")


def _records(world: BatchWorld, *, consent: bool, aantal: int, offset: int) -> list[dict[str, Any]]:
    """Meldingen of people who did (not) consent in the simulation, with a definite answer per gated check,
    for Ruimhaven: its besluit runs every gated check (Strikdorp has no beleidsregels for huurschuld)."""
    mensen = by_bsn()
    gekozen = [
        r
        for r in meldingen(400, offset=offset)
        if r["gemeente_code"] == "9901"
        and mensen[r["bsn"]].toestemming_financieel is consent
        and all(TRUTH[c](mensen[r["bsn"]]) is not None for c in GATED)
    ][:aantal]
    assert len(gekozen) == aantal
    return gekozen


def _persoon(record: dict[str, Any]) -> Persoon:
    return by_bsn()[record["bsn"]]


def _waar(record: dict[str, Any], check_id: str) -> str:
    return "ja" if TRUTH[check_id](_persoon(record)) else "nee"


def _uitkomsten(world: BatchWorld, melding_id: str) -> dict[str, dict[str, Any]]:
    return {
        r["check_id"]: r
        for r in world.rows(
            "SELECT check_id, uitkomst, reden, dossierverantwoordelijke, pogingen, volgende_poging "
            "FROM uitkomst WHERE melding_id = :m",
            m=melding_id,
        )
    }


def _logs(world: BatchWorld, check_id: str) -> int:
    return int(
        world.scalar("SELECT COUNT(*) FROM verwerkingslog WHERE name = :n", n=f"nazorg.check.{check_id}")
    )


def _versie(world: BatchWorld, melding_id: str) -> int:
    return int(world.scalar("SELECT versie FROM outbox WHERE melding_id = :m", m=melding_id))


def _batch(world: BatchWorld, nu: datetime | None = None) -> tuple[int, int]:
    """One whole batch in-process; (meldingen collected, herhalingen)."""
    verzameling = verzamel(world.rt, nu=nu)
    for chunk_id in verzameling.chunk_ids:
        verwerk_chunk(world.rt, chunk_id)
    if verzameling.chunk_ids:
        sluit_batch(world.rt, verzameling.batch_id)
    return verzameling.meldingen, verzameling.herhalingen


def _leg_vast(world: BatchWorld, melding_id: str, **kwargs: Any) -> toestemming.Vastgelegd:
    args: dict[str, Any] = {
        "checks": GATED,
        "tekst_versie": "modelovereenkomst-2026.1",
        "vastgelegd_door": "casemanager PI",
    }
    args.update(kwargs)
    return toestemming.vastleggen(world.rt, melding_id, args.pop("soort", "overeenkomst"), **args)


def _sim_id(melding_id: str) -> str:
    return f"sim-{melding_id}"


# -- consent decides -----------------------------------------------------------------------------


def test_each_gated_check_stays_niet_uitgevoerd_without_consent_and_runs_with_it(
    batch_world: BatchWorld,
) -> None:
    """Per melding, not per person: the same person's second melding without its own consent stays refused."""
    zonder, met = _records(batch_world, consent=False, aantal=2, offset=600)
    tweede_melding = {**met, "melding_id": f"{met['melding_id']}-B"}  # the same person, another melding
    ids = batch_world.submit([zonder, met, tweede_melding])
    _leg_vast(batch_world, met["melding_id"])
    for melding_id in ids[:2]:
        batch_world.run_per_melding(melding_id)
    batch_world.verwerk([ids[2]])  # and the batch path decides the same way

    for check_id in GATED:
        assert batch_world.outcomes(zonder["melding_id"])[check_id] == GEEN, check_id
        assert batch_world.outcomes(tweede_melding["melding_id"])[check_id] == GEEN, check_id
        assert batch_world.outcomes(met["melding_id"])[check_id] == (_waar(met, check_id), None), check_id
        assert _logs(batch_world, check_id) == 1, check_id  # asked for the one melding with consent


def test_only_consent_gated_checks_can_be_covered(batch_world: BatchWorld) -> None:
    (record,) = _records(batch_world, consent=False, aantal=1, offset=620)
    (melding_id,) = batch_world.submit([record])
    with pytest.raises(toestemming.ToestemmingFout) as info:
        _leg_vast(batch_world, melding_id, checks=("schuld_cjib",))
    assert info.value.reden_code == "check_zonder_toestemming"
    assert batch_world.scalar("SELECT COUNT(*) FROM toestemming") == 0
    vastgelegd = _leg_vast(batch_world, melding_id, checks=(), basisvoorwaarden=("huisvesting_onderdak",))
    assert vastgelegd.checks == ("huurschuld",)


def test_expired_consent_no_longer_covers(batch_world: BatchWorld) -> None:
    (record,) = _records(batch_world, consent=False, aantal=1, offset=640)
    (melding_id,) = batch_world.submit([record])
    _leg_vast(batch_world, melding_id, geldig_tot=date.today())  # holds today, the last day
    with batch_world.store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE toestemming SET geldig_tot = '2000-01-01'")
    batch_world.run_per_melding(melding_id)
    assert {c: batch_world.outcomes(melding_id)[c] for c in GATED} == dict.fromkeys(GATED, GEEN)


# -- recording consent after publication ----------------------------------------------------------


def test_consent_recorded_after_publication_runs_the_checks_in_the_next_batch(
    batch_world: BatchWorld,
) -> None:
    (record,) = _records(batch_world, consent=False, aantal=1, offset=660)
    (melding_id,) = batch_world.submit([record])
    batch_world.run_per_melding(melding_id)
    assert _versie(batch_world, melding_id) == 1
    assert _batch(batch_world) == (0, 0)  # nothing due yet

    vastgelegd = _leg_vast(batch_world, melding_id)
    assert vastgelegd.herhalingen == len(GATED)
    gemarkeerd = _uitkomsten(batch_world, melding_id)
    assert all(gemarkeerd[c]["volgende_poging"] is not None for c in GATED)

    assert _batch(batch_world) == (1, 1)
    assert _versie(batch_world, melding_id) == 2
    na = _uitkomsten(batch_world, melding_id)
    for check_id in GATED:
        assert batch_world.outcomes(melding_id)[check_id] == (_waar(record, check_id), None), check_id
        assert (na[check_id]["pogingen"], na[check_id]["volgende_poging"]) == (1, None), check_id
        assert _logs(batch_world, check_id) == 1, check_id
    assert _batch(batch_world) == (0, 0)  # done: not asked again


def test_a_consent_withdrawn_before_its_herhaling_is_never_asked(batch_world: BatchWorld) -> None:
    (record,) = _records(batch_world, consent=False, aantal=1, offset=680)
    (melding_id,) = batch_world.submit([record])
    batch_world.run_per_melding(melding_id)
    vastgelegd = _leg_vast(batch_world, melding_id)
    toestemming.intrekken(
        batch_world.rt, melding_id, vastgelegd.toestemming_id, ingetrokken_door="casemanager"
    )
    assert _batch(batch_world) == (0, 0)
    # and a new per-melding run of the melding decides under today's consent too
    batch_world.run_per_melding(melding_id)
    for check_id in GATED:
        assert batch_world.outcomes(melding_id)[check_id] == GEEN
        assert _logs(batch_world, check_id) == 0


def test_a_due_consent_herhaling_is_decided_again_when_the_chunk_plans(batch_world: BatchWorld) -> None:
    """Consent recorded, then withdrawn while the batch already collected the melding: not asked."""
    (record,) = _records(batch_world, consent=False, aantal=1, offset=700)
    (melding_id,) = batch_world.submit([record])
    batch_world.run_per_melding(melding_id)
    vastgelegd = _leg_vast(batch_world, melding_id)
    verzameling = verzamel(batch_world.rt)
    assert (verzameling.meldingen, verzameling.herhalingen) == (1, 1)
    toestemming.intrekken(
        batch_world.rt, melding_id, vastgelegd.toestemming_id, ingetrokken_door="casemanager"
    )
    for chunk_id in verzameling.chunk_ids:
        verwerk_chunk(batch_world.rt, chunk_id)
    sluit_batch(batch_world.rt, verzameling.batch_id)
    assert {c: batch_world.outcomes(melding_id)[c] for c in GATED} == dict.fromkeys(GATED, GEEN)
    assert all(_logs(batch_world, c) == 0 for c in GATED)
    assert batch_world.scalar("SELECT claim FROM inbox WHERE melding_id = :m", m=melding_id) is None


# -- withdrawal --------------------------------------------------------------------------------------


def test_withdrawal_removes_the_outcomes_and_republishes_without_them(batch_world: BatchWorld) -> None:
    (record,) = _records(batch_world, consent=True, aantal=1, offset=720)
    (melding_id,) = batch_world.submit([record])  # the simulator records consent sim-<melding_id>
    # a second consent covers huurschuld too: withdrawing the first stops only uitkering_voorschot
    tweede = _leg_vast(batch_world, melding_id, checks=(), basisvoorwaarden=("huisvesting_onderdak",))
    batch_world.run_per_melding(melding_id)
    voor = batch_world.outcomes(melding_id)
    assert {c: voor[c][0] for c in GATED} == {c: _waar(record, c) for c in GATED}
    andere = {c: v for c, v in voor.items() if c not in GATED}

    ingetrokken = toestemming.intrekken(
        batch_world.rt, melding_id, _sim_id(melding_id), ingetrokken_door="casemanager"
    )
    assert ingetrokken.gestopt == ("uitkering_voorschot",)
    assert ingetrokken.versie == 2 == _versie(batch_world, melding_id)
    na = batch_world.outcomes(melding_id)
    assert na["uitkering_voorschot"] == GEEN
    assert na["huurschuld"] == voor["huurschuld"]  # still covered by the second consent
    assert {c: v for c, v in na.items() if c not in GATED} == andere

    ingetrokken = toestemming.intrekken(
        batch_world.rt, melding_id, tweede.toestemming_id, ingetrokken_door="casemanager"
    )
    assert (ingetrokken.gestopt, ingetrokken.versie) == (("huurschuld",), 3)
    rijen = _uitkomsten(batch_world, melding_id)
    for check_id in GATED:
        assert batch_world.outcomes(melding_id)[check_id] == GEEN
        rij = rijen[check_id]
        assert (rij["uitkomst"], rij["reden"], rij["dossierverantwoordelijke"]) == (*GEEN, None)
        assert rij["volgende_poging"] is None
    # every copy of the document says so: basisdocument, outbox, the per-melding JSON file
    outbox = batch_world.outbox()[melding_id]
    assert json.loads(outbox["inhoud"]) == json.loads(Path(outbox["bestand"]).read_text(encoding="utf-8"))
    document = batch_world.scalar("SELECT inhoud FROM basisdocument WHERE melding_id = :m", m=melding_id)
    assert document == outbox["inhoud"]
    assert (
        batch_world.scalar("SELECT status FROM inbox WHERE melding_id = :m", m=melding_id) == "gepubliceerd"
    )
    # nothing left to retry, and no batch asks it again
    assert _batch(batch_world) == (0, 0)
    # the records stay, withdrawn, to say why the checks stopped
    records = toestemming.toon(batch_world.store, melding_id)
    assert [r.ingetrokken_door for r in records] == ["casemanager", "casemanager"]
    with pytest.raises(toestemming.ToestemmingFout) as info:
        toestemming.intrekken(batch_world.rt, melding_id, tweede.toestemming_id, ingetrokken_door="x y")
    assert info.value.reden_code == "al_ingetrokken"


def test_a_withdrawal_while_a_run_asks_the_source_keeps_no_answer(
    batch_world: BatchWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run planned with consent; the withdrawal lands while the source is asked: no answer kept."""
    (record,) = _records(batch_world, consent=True, aantal=1, offset=740)
    (melding_id,) = batch_world.submit([record])
    rt = batch_world.rt
    run_key = run_key_voor(batch_world.store, melding_id)
    assert run_key is not None
    pipeline.ontvang(rt, run_key)
    pipeline.plan(rt, run_key)
    echt = pipeline.evalueer
    ingetrokken: list[str] = []

    def evalueer_en_trek_in(entry: Any, *args: Any) -> Any:
        if entry.id in CONSENT_GATED and not ingetrokken:
            ingetrokken.append(entry.id)
            toestemming.intrekken(rt, melding_id, _sim_id(melding_id), ingetrokken_door="casemanager")
        return echt(entry, *args)

    monkeypatch.setattr(pipeline, "evalueer", evalueer_en_trek_in)
    for gebied in Aandachtsgebied:
        pipeline.voer_checks_uit(rt, run_key, gebied, trace_id_for(f"test-{run_key}"))
    pipeline.stel_basisdocument_op(rt, run_key)
    pipeline.bewaak(rt, run_key)
    pipeline.publiceer(rt, run_key, batch_world.tmp / "outbox")
    assert ingetrokken
    for check_id in GATED:
        assert batch_world.outcomes(melding_id)[check_id] == GEEN, check_id
        assert _uitkomsten(batch_world, melding_id)[check_id]["dossierverantwoordelijke"] is None


def test_a_withdrawal_while_a_chunk_holds_the_melding_is_not_overwritten(
    batch_world: BatchWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chunk planned with consent; the withdrawal ends its claim, so it writes nothing for the melding
    and the next batch publishes it under the consent as it is then."""
    records = _records(batch_world, consent=True, aantal=2, offset=760)
    ids = batch_world.submit(records)
    slachtoffer = ids[0]
    echt = chunk_module.evalueer
    ingetrokken: list[str] = []

    def evalueer_en_trek_in(entry: Any, *args: Any) -> Any:
        if entry.id in CONSENT_GATED and not ingetrokken:
            ingetrokken.append(entry.id)
            toestemming.intrekken(
                batch_world.rt, slachtoffer, _sim_id(slachtoffer), ingetrokken_door="casemanager"
            )
        return echt(entry, *args)

    monkeypatch.setattr(chunk_module, "evalueer", evalueer_en_trek_in)
    resultaat = batch_world.verwerk(ids)
    monkeypatch.setattr(chunk_module, "evalueer", echt)
    assert ingetrokken
    assert resultaat.gepubliceerd == 1  # the other melding
    assert slachtoffer not in batch_world.outbox()
    assert _batch(batch_world, datetime.now(UTC) + timedelta(seconds=1)) == (1, 0)
    for check_id in GATED:
        assert batch_world.outcomes(slachtoffer)[check_id] == GEEN, check_id
        assert batch_world.outcomes(ids[1])[check_id] == (_waar(records[1], check_id), None), check_id


def test_the_toestemming_tables_hold_no_bsn(batch_world: BatchWorld) -> None:
    records = _records(batch_world, consent=True, aantal=3, offset=780)
    ids = batch_world.submit(records)
    _leg_vast(batch_world, ids[0], soort="toestemming")
    toestemming.intrekken(batch_world.rt, ids[1], _sim_id(ids[1]), ingetrokken_door="casemanager")
    dump = str(batch_world.rows("SELECT * FROM toestemming")) + str(
        batch_world.rows("SELECT * FROM toestemming_check")
    )
    assert batch_world.scalar("SELECT COUNT(*) FROM toestemming") == 4
    for record in records:
        assert record["bsn"] not in dump
    for table in ("toestemming", "toestemming_check"):
        assert "bsn" not in {c["name"] for c in inspect(batch_world.store.engine).get_columns(table)}


def test_withdrawal_scrubs_the_answers_from_the_batch_parquet_files(batch_world: BatchWorld) -> None:
    """A document the batch published lives on in its chunk's Parquet file: withdrawn answers go there too."""
    import dataclasses

    import pyarrow.parquet as pq

    rt = dataclasses.replace(
        batch_world.rt,
        settings=dataclasses.replace(batch_world.rt.settings, parquet_dir=batch_world.parquet_dir),
    )
    records = _records(batch_world, consent=True, aantal=2, offset=900)
    ids = batch_world.submit(records)
    verzameling = verzamel(rt)
    for chunk_id in verzameling.chunk_ids:
        verwerk_chunk(rt, chunk_id)
    assert sluit_batch(rt, verzameling.batch_id).gepubliceerd == 2
    bestanden = sorted(batch_world.parquet_dir.rglob("*.parquet"))
    assert bestanden

    def rijen() -> dict[tuple[str, str], tuple[Any, ...]]:
        return {
            (r["melding_id"], r["check_id"]): (r["uitkomst"], r["reden"], r["dossierverantwoordelijke"])
            for bestand in bestanden
            for r in pq.read_table(bestand).to_pylist()
        }

    voor = rijen()
    assert {voor[(ids[0], c)][0] for c in GATED} <= {"ja", "nee"}
    toestemming.intrekken(rt, ids[0], _sim_id(ids[0]), ingetrokken_door="casemanager")
    na = rijen()
    for check_id in GATED:
        assert na[(ids[0], check_id)] == (*GEEN, None), check_id
    assert {k: v for k, v in na.items() if k[0] != ids[0] or k[1] not in GATED} == {
        k: v for k, v in voor.items() if k[0] != ids[0] or k[1] not in GATED
    }
    for bestand in bestanden:
        assert bestand.stat().st_mode & 0o777 == 0o600
        assert not list(bestand.parent.glob(".*.tmp"))


def test_a_withdrawal_while_a_new_run_has_a_published_melding_clears_the_outbox_at_once(
    batch_world: BatchWorld,
) -> None:
    """The outbox does not keep the withdrawn answer until the run publishes (nor if it never does)."""
    (record,) = _records(batch_world, consent=True, aantal=1, offset=960)
    (melding_id,) = batch_world.submit([record])
    batch_world.run_per_melding(melding_id)
    rt = batch_world.rt
    run_key = run_key_voor(batch_world.store, melding_id)
    assert run_key is not None
    pipeline.ontvang(rt, run_key)  # a new run takes the published melding up
    pipeline.plan(rt, run_key)
    ingetrokken = toestemming.intrekken(rt, melding_id, _sim_id(melding_id), ingetrokken_door="casemanager")
    assert ingetrokken.versie == 2
    uit = batch_world.outcomes(melding_id)
    assert {c: uit[c] for c in GATED} == dict.fromkeys(GATED, GEEN)
    for gebied in Aandachtsgebied:
        pipeline.voer_checks_uit(rt, run_key, gebied, trace_id_for(f"test-{run_key}"))
    pipeline.stel_basisdocument_op(rt, run_key)
    pipeline.bewaak(rt, run_key)
    pipeline.publiceer(rt, run_key, batch_world.tmp / "outbox")
    assert {c: batch_world.outcomes(melding_id)[c] for c in GATED} == dict.fromkeys(GATED, GEEN)
    assert all(_logs(batch_world, c) == 1 for c in GATED)  # asked by the first run only

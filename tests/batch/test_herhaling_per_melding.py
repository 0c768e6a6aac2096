"""An onbekend published by the per-melding path is retried by the next batch, like the batch's own.

The per-melding path records the retry bookkeeping (``uitkomst.pogingen``,
``volgende_poging``) the way a chunk does, so ``verzamel`` finds a melding the
per-melding DAG published with a source down and the batch fills it in as a
herhaling (``outbox.versie`` 2), under today's plan: the besluit and consent
decide again, and a check whose consent was withdrawn meanwhile is not asked.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from nazorg import pipeline
from nazorg.batch import sluit_batch, verwerk_chunk, verzamel
from nazorg.inbox import run_key_voor
from nazorg.models import Aandachtsgebied
from nazorg.processing_log import trace_id_for
from nazorg.sources.errors import SourceUnavailable
from nazorg.wiring import Runtime
from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer
from nazorg_dev.sim.meldingen import meldingen
from nazorg_dev.sim.population import by_bsn
from tests.batch.conftest import BatchWorld
from tests.oracle import expected

HC_CHECKS = ("id_bewijs", "kinderen", "onderdak")
#: consent-gated, answered by the gemeente's SQL source (made to fail in the per-melding run)
HUURSCHULD = "huurschuld"


class _Onbereikbaar:
    """A real adapter, except that huurschuld's source cannot be reached (a transient onbekend)."""

    def __init__(self, echt: Any) -> None:
        self.echt = echt

    def answer(self, vraag: Any, gevallen: Sequence[Any]) -> Any:
        if vraag.entry.id == HUURSCHULD:
            raise SourceUnavailable(bron="test")
        return self.echt.answer(vraag, gevallen)

    def toets(self, vraag: Any) -> None:
        self.echt.toets(vraag)


def _huurschuld_onbereikbaar(rt: Runtime) -> Runtime:
    echte = rt.open_sources

    class _Bronnen:
        def __init__(self, bronnen: Any) -> None:
            self.bronnen = bronnen

        def adapter(self, kind: str) -> Any:
            adapter = self.bronnen.adapter(kind)
            return _Onbereikbaar(adapter) if kind == "gemeentelijk_sql" else adapter

    @contextmanager
    def open_sources() -> Iterator[Any]:
        with echte() as bronnen:
            yield _Bronnen(bronnen)

    return dataclasses.replace(rt, open_sources=open_sources)


def _per_melding(rt: Runtime, world: BatchWorld, melding_id: str) -> None:
    run_key = run_key_voor(world.store, melding_id)
    assert run_key is not None
    pipeline.ontvang(rt, run_key)
    pipeline.plan(rt, run_key)
    for gebied in Aandachtsgebied:
        pipeline.voer_checks_uit(rt, run_key, gebied, trace_id_for(f"test-{run_key}"))
    pipeline.stel_basisdocument_op(rt, run_key)
    pipeline.bewaak(rt, run_key)
    pipeline.publiceer(rt, run_key, world.tmp / "outbox")


def _kies() -> list[dict[str, Any]]:
    """A 9901 melding of a person who consented, a 9902 one of a person who did not; plain BRP records."""
    mensen = by_bsn()
    records = list(meldingen(80, offset=1300))
    ruimhaven = next(
        r
        for r in records
        if r["gemeente_code"] == "9901"
        and mensen[r["bsn"]].toestemming_financieel
        and not mensen[r["bsn"]].heeft_brp_signaal
    )
    strikdorp = next(
        r
        for r in records
        if r["gemeente_code"] == "9902"
        and not mensen[r["bsn"]].toestemming_financieel
        and not mensen[r["bsn"]].heeft_brp_signaal
    )
    return [ruimhaven, strikdorp]


def _retry(world: BatchWorld, melding_id: str) -> dict[str, tuple[str, str | None, int, str | None]]:
    return {
        r["check_id"]: (r["uitkomst"], r["reden"], int(r["pogingen"]), r["volgende_poging"])
        for r in world.rows(
            "SELECT check_id, uitkomst, reden, pogingen, volgende_poging FROM uitkomst WHERE melding_id = :m",
            m=melding_id,
        )
    }


def _logs(world: BatchWorld) -> Counter[str]:
    """Processing-log records per check (the activity id is ``<register_uri><check_id>/v<n>``)."""
    from nazorg.register import lees_activiteit_id

    return Counter(
        lees_activiteit_id(str(r["processing_activity_id"]))[0]
        for r in world.rows("SELECT processing_activity_id FROM verwerkingslog")
    )


def test_a_per_melding_onbekend_is_retried_by_the_next_batch_under_todays_plan(
    batch_world: BatchWorld, hc_server: HaalCentraalSimServer
) -> None:
    world = batch_world
    rt = dataclasses.replace(
        world.rt, settings=dataclasses.replace(world.rt.settings, parquet_dir=world.parquet_dir)
    )
    backoff = timedelta(seconds=rt.settings.batch_backoff_s)
    ruimhaven, strikdorp = records = _kies()
    ids = world.submit(records)

    # the per-melding DAG's steps with Haal Centraal down and ruimhaven's huurschuld source unreachable
    voor = datetime.now(UTC)
    hc_server.configure(fault="503")
    try:
        for melding_id in ids:
            _per_melding(_huurschuld_onbereikbaar(rt), world, melding_id)
    finally:
        hc_server.configure(fault=None)
    na = datetime.now(UTC)
    assert {r["versie"] for r in world.outbox().values()} == {1}

    eerst = _retry(world, ruimhaven["melding_id"])
    for check_id in (*HC_CHECKS, HUURSCHULD):
        uitkomst, reden, pogingen, volgende = eerst[check_id]
        assert (uitkomst, pogingen) == ("onbekend", 1), check_id
        assert reden in ("bron_fout", "bron_onbereikbaar", "bron_timeout"), check_id
        assert volgende is not None and voor + backoff <= datetime.fromisoformat(volgende) <= na + backoff
    for check_id, (uitkomst, _, pogingen, volgende) in eerst.items():
        if check_id not in (*HC_CHECKS, HUURSCHULD):
            assert uitkomst in ("ja", "nee") and (pogingen, volgende) == (1, None), check_id
    tweede = _retry(world, strikdorp["melding_id"])
    assert tweede["kinderen"][0] == "onbekend" and tweede["kinderen"][3] is not None
    for check_id in ("id_bewijs", "onderdak"):  # not in 9902's besluit: never asked, never retried
        assert tweede[check_id] == ("niet_uitgevoerd", "niet_in_besluit", 0, None), check_id
    # Strikdorp has no beleidsregels bijzondere bijstand: huurschuld is not in its besluit
    assert tweede[HUURSCHULD] == ("niet_uitgevoerd", "niet_in_besluit", 0, None)

    # not due before the backoff has passed
    assert verzamel(rt, nu=datetime.now(UTC)).meldingen == 0

    # meanwhile the consent for huurschuld ran out (geldig_tot passed; nobody withdrew it, so
    # nothing stopped the check at once: the herhaling must decide it again); the sources are back up
    with world.store.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE toestemming SET geldig_tot = '2000-01-01' WHERE melding_id = "
            + ("%s" if world.dialect == "postgresql" else "?"),
            (ruimhaven["melding_id"],),
        )
    logs = _logs(world)
    verzameling = verzamel(rt, nu=na + backoff + timedelta(seconds=1))
    assert (verzameling.meldingen, verzameling.herhalingen) == (2, 2)
    for chunk_id in verzameling.chunk_ids:
        verwerk_chunk(rt, chunk_id)
    samenvatting = sluit_batch(rt, verzameling.batch_id)
    assert (samenvatting.gepubliceerd, samenvatting.gequarantaineerd, samenvatting.mislukt) == (2, 0, 0)

    outbox = world.outbox()
    assert {m: r["versie"] for m, r in outbox.items()} == {m: 2 for m in ids}
    parquet = sorted(world.parquet_dir.rglob("*.parquet"))
    assert {r["bestand"] for r in outbox.values()} <= {str(p) for p in parquet}
    na_batch = _retry(world, ruimhaven["melding_id"])
    for record in records:
        for check_id, got in world.outcomes(record["melding_id"]).items():
            if record is ruimhaven and check_id == HUURSCHULD:
                continue
            assert got == expected(check_id, record["bsn"], record["gemeente_code"]), check_id
    # consent withdrawn: not asked again, niet_uitgevoerd with the planner's reason, no retry left
    assert world.outcomes(ruimhaven["melding_id"])[HUURSCHULD] == ("niet_uitgevoerd", "geen_toestemming")
    assert na_batch[HUURSCHULD][2:] == (1, None)
    assert {check_id: na_batch[check_id][2] for check_id in HC_CHECKS} == dict.fromkeys(HC_CHECKS, 2)
    assert world.scalar("SELECT COUNT(*) FROM uitkomst WHERE volgende_poging IS NOT NULL") == 0
    # only the checks asked again were logged: 3 for ruimhaven (not huurschuld), kinderen for strikdorp
    erbij = Counter(_logs(world))
    erbij.subtract(logs)
    assert +erbij == Counter({"id_bewijs": 1, "onderdak": 1, "kinderen": 2}), erbij
    # 9902's besluit and consent still decide: what they refused stays niet_uitgevoerd, unasked
    assert {c: v[:2] for c, v in _retry(world, strikdorp["melding_id"]).items() if c != "kinderen"} == {
        c: v[:2] for c, v in tweede.items() if c != "kinderen"
    }


def test_a_new_per_melding_run_starts_the_attempts_afresh(
    batch_world: BatchWorld, hc_server: HaalCentraalSimServer
) -> None:
    """A new run re-plans the melding and discards its outcomes: their attempts go with them."""
    world = batch_world
    (record,) = [r for r in _kies() if r["gemeente_code"] == "9901"]
    (melding_id,) = world.submit([record])
    hc_server.configure(fault="503")
    try:
        for _ in range(2):
            _per_melding(world.rt, world, melding_id)
            pogingen = {c: v[2] for c, v in _retry(world, melding_id).items() if c in HC_CHECKS}
            assert pogingen == dict.fromkeys(HC_CHECKS, 1)
        # a check task run again within the run (cleared in Airflow): one attempt more
        run_key = run_key_voor(world.store, melding_id)
        assert run_key is not None
        pipeline.ontvang(world.rt, run_key)
        huisvesting = Aandachtsgebied.HUISVESTING_ONDERDAK
        pipeline.voer_checks_uit(world.rt, run_key, huisvesting, trace_id_for("opnieuw"))
    finally:
        hc_server.configure(fault=None)
    assert _retry(world, melding_id)["onderdak"][2] == 2

"""Accountability to the standards, through both paths against the Haal Centraal simulator over HTTP.

- Logboek Dataverwerkingen: ``processing_activity_id`` is the register URI of the
  entry's version; a check that called Haal Centraal names the request that served
  the person (``foreign_operation``), and that request carried a W3C traceparent the
  called side can link to our record.
- BRP protocollering: every request carries the gateway's purpose-binding headers
  with this check's and this gemeente's values, and nothing personal.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from nazorg.processing_log import trace_id_for
from nazorg.register import Policy
from nazorg.settings import DEFAULT_BRP_GEBRUIKER, DEFAULT_REGISTER_URI
from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer
from nazorg_dev.sim.meldingen import meldingen
from tests.batch.conftest import BatchWorld

HC_BRONNEN = {"haal_centraal_brp_personen", "haal_centraal_reisdocumenten"}
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-01$")
OIN = {"9901": "00000001999901000000", "9902": "00000001999902000000"}


@pytest.fixture
def sim(hc_server: HaalCentraalSimServer) -> Iterator[HaalCentraalSimServer]:
    hc_server.configure(fault=None, latency_ms=0)
    hc_server.reset_stats()
    yield hc_server
    hc_server.reset_stats()


def _hc_checks(policy: Policy) -> set[str]:
    return {e.id for e in policy.register.checks if e.bron in HC_BRONNEN}


def _log(world: BatchWorld) -> list[dict[str, Any]]:
    return world.rows("SELECT * FROM verwerkingslog")


def _check_id(record: dict[str, Any]) -> str:
    return str(record["name"]).removeprefix("nazorg.check.")


def _verzoeken_per_span(sim: HaalCentraalSimServer) -> dict[str, dict[str, Any]]:
    per_span = {}
    for verzoek in sim.verzoeken():
        match = TRACEPARENT.fullmatch(verzoek["traceparent"] or "")
        assert match is not None, "a request without a well-formed traceparent"
        assert verzoek["traceparent_geldig"]
        assert match[2] not in per_span, "a span id used for two requests"
        per_span[match[2]] = {**verzoek, "trace_id": match[1]}
    return per_span


def _assert_protocollering(verzoek: dict[str, Any], policy: Policy, check_id: str, gemeente: str) -> None:
    entry = policy.register.entry(check_id)
    assert verzoek["x-origin-oin"] == OIN[gemeente]
    assert verzoek["x-verwerking"] == entry.processing_activity_id
    assert verzoek["x-doelbinding"] == check_id  # the register names no doelbinding code: the check id
    assert verzoek["x-gebruiker"] == DEFAULT_BRP_GEBRUIKER


def test_per_melding_records_link_to_the_requests_that_served_them(
    batch_world: BatchWorld, sim: HaalCentraalSimServer
) -> None:
    records = list(meldingen(6, offset=300))
    assert {r["gemeente_code"] for r in records} == {"9901", "9902"}
    gemeente = {str(r["melding_id"]): str(r["gemeente_code"]) for r in records}
    bsns = {str(r["bsn"]) for r in records}
    for melding_id in batch_world.submit(records):
        batch_world.run_per_melding(melding_id)
    policy = batch_world.rt.policy
    hc = _hc_checks(policy)
    per_span = _verzoeken_per_span(sim)
    assert per_span, "no Haal Centraal request was made"

    gekoppeld = 0
    for record in _log(batch_world):
        check_id = _check_id(record)
        entry = policy.register.entry(check_id)
        assert record["processing_activity_id"] == f"{DEFAULT_REGISTER_URI}{check_id}/v{entry.versie}"
        if check_id not in hc:
            assert record["request_span_id"] is None and record["foreign_entity"] is None
            continue
        verzoek = per_span[record["request_span_id"]]  # the server received exactly this request
        assert verzoek["trace_id"] == record["trace_id"] == record["foreign_trace_id"]
        assert record["foreign_span_id"] == verzoek["server_span_id"]  # its traceresponse, recorded
        assert record["foreign_entity"].startswith("http://127.0.0.1:")
        gekoppeld += 1
    assert gekoppeld >= len(records)  # every melding has at least kinderen (both besluiten)

    # every request carried its check's and its gemeente's headers, and nothing personal
    melding_van_trace = {
        trace_id_for(f"test-{batch_world.scalar('SELECT run_key FROM inbox WHERE melding_id = :m', m=m)}"): m
        for m in gemeente
    }
    check_van_span = {r["request_span_id"]: _check_id(r) for r in _log(batch_world) if r["request_span_id"]}
    bevestigingen = 0
    for span_id, verzoek in per_span.items():
        melding_id = melding_van_trace[verzoek["trace_id"]]
        check_id = check_van_span.get(span_id)
        if check_id is None:  # BRP Personen confirming a nee of Reisdocumenten: the same check, same trace
            check_id = "id_bewijs"
            assert verzoek["pad"].endswith("/personen")
            bevestigingen += 1
        _assert_protocollering(verzoek, policy, check_id, gemeente[melding_id])
        for naam in ("x-doelbinding", "x-verwerking", "x-origin-oin", "x-gebruiker", "traceparent"):
            assert not any(bsn in str(verzoek[naam]) for bsn in bsns), naam
    assert {v["x-origin-oin"] for v in per_span.values()} == set(OIN.values())  # both gemeenten asked
    # Ruimhaven performs all three Haal Centraal checks (all standaard), so each was asked under its own URI
    assert {v["x-verwerking"] for v in per_span.values()} == {
        policy.register.entry(c).processing_activity_id for c in hc
    }


def test_a_batch_request_for_twenty_people_is_named_in_each_of_their_records(
    batch_world: BatchWorld, sim: HaalCentraalSimServer
) -> None:
    """One BRP Personen request serves up to 20 BSNs: each person's record names that request's span."""
    records = list(meldingen(50, offset=400))
    gemeente = {str(r["melding_id"]): str(r["gemeente_code"]) for r in records}
    bsns = {str(r["bsn"]) for r in records}
    ids = batch_world.submit(records)
    batch_world.verwerk(ids)
    policy = batch_world.rt.policy
    per_span = _verzoeken_per_span(sim)

    kinderen = [r for r in _log(batch_world) if _check_id(r) == "kinderen"]
    assert len(kinderen) == len(records)  # both besluiten perform kinderen, for everyone
    per_verzoek: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in kinderen:
        verzoek = per_span[record["request_span_id"]]
        assert verzoek["pad"].endswith("/personen")
        assert record["foreign_trace_id"] == verzoek["trace_id"]
        assert record["foreign_span_id"] == verzoek["server_span_id"]
        per_verzoek[record["request_span_id"]].append(record)
    # per gemeente one question: ceil(n / 20) requests, each serving up to 20 people
    per_gemeente: dict[str, int] = defaultdict(int)
    for g in gemeente.values():
        per_gemeente[g] += 1
    assert len(per_verzoek) == sum(-(-n // 20) for n in per_gemeente.values())
    assert max(len(v) for v in per_verzoek.values()) == 20
    for span_id, groep in per_verzoek.items():
        assert len({r["data_subject_id"] for r in groep}) == len(groep)  # distinct people, one request
        verzoek = per_span[span_id]
        assert verzoek["x-verwerking"] == policy.register.entry("kinderen").processing_activity_id
        assert verzoek["x-origin-oin"] in OIN.values()
    for verzoek in per_span.values():
        assert verzoek["x-origin-oin"] in OIN.values()
        for naam in ("x-doelbinding", "x-verwerking", "x-origin-oin", "x-gebruiker", "traceparent"):
            assert not any(bsn in str(verzoek[naam]) for bsn in bsns), naam
    for record in _log(batch_world):
        assert record["processing_activity_id"].startswith(DEFAULT_REGISTER_URI)


# --------------------------------------------------------------------------- OpenTelemetry export


def test_otel_exports_one_span_per_check_per_person_with_the_logboek_attributes(
    batch_world: BatchWorld, sim: HaalCentraalSimServer
) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from nazorg import otel

    exporter = InMemorySpanExporter()
    otel.gebruik(otel.maak_provider(exporter, batch=False))
    try:
        records = list(meldingen(6, offset=500))
        ids = batch_world.submit(records)
        for melding_id in ids[:2]:
            batch_world.run_per_melding(melding_id)
        batch_world.verwerk(ids[2:])
    finally:
        otel.gebruik(None)
    bsns = {str(r["bsn"]) for r in records}
    log = {(r["trace_id"], r["span_id"]): r for r in _log(batch_world)}
    spans = exporter.get_finished_spans()
    assert len(spans) == len(log) > 6 * 5  # every executed check of every person, once
    per_persoon_check = {(r["data_subject_id"], r["name"]) for r in log.values()}
    assert len(per_persoon_check) == len(log)  # one record (and so one span) per check per person
    gekoppeld = 0
    for span in spans:
        assert span.context is not None
        sleutel = (f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}")
        record = log.pop(sleutel)  # the span is the record: its ids, name, times, status
        assert span.name == record["name"]
        assert span.parent is None
        assert dict(span.attributes or {}) == {
            "dpl.core.processing_activity_id": record["processing_activity_id"],
            "dpl.core.data_subject_id": record["data_subject_id"],
            "dpl.core.data_subject_id_type": "BSN",
        }
        assert span.status.status_code.name == ("ERROR" if record["status_code"] == "ERROR" else "OK")
        assert span.resource.attributes["service.name"] == "nazorg-intake"
        if record["request_span_id"] is not None:
            (link,) = span.links
            assert f"{link.context.trace_id:032x}" == record["foreign_trace_id"]
            assert f"{link.context.span_id:016x}" == record["request_span_id"]
            assert (
                dict(link.attributes or {})["dpl.core.foreign_operation.entity"] == record["foreign_entity"]
            )
            gekoppeld += 1
        else:
            assert not span.links
        tekst = span.to_json()
        assert not any(bsn in tekst for bsn in bsns), "a BSN in an exported span"
    assert not log  # no record without its span
    assert gekoppeld >= 6


def test_without_an_endpoint_no_exporter_is_created(
    batch_world: BatchWorld, sim: HaalCentraalSimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NAZORG_OTEL_ENDPOINT unset: a whole run creates no exporter and no provider; set: exactly one."""
    from opentelemetry.exporter.otlp.proto.http import trace_exporter

    from nazorg import otel
    from nazorg.settings import reload_settings

    gemaakt: list[str | None] = []
    echte = trace_exporter.OTLPSpanExporter

    class Geteld(echte):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            gemaakt.append(kwargs.get("endpoint"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(trace_exporter, "OTLPSpanExporter", Geteld)
    monkeypatch.delenv("NAZORG_OTEL_ENDPOINT", raising=False)
    reload_settings()
    otel._geconfigureerd.cache_clear()
    ids = batch_world.submit(list(meldingen(2, offset=600)))
    batch_world.run_per_melding(ids[0])
    batch_world.verwerk(ids[1:])
    assert batch_world.scalar("SELECT COUNT(*) FROM verwerkingslog") > 0
    assert otel.provider() is None
    assert gemaakt == []

    # the counter does count: with an endpoint the configured provider builds exactly one exporter
    monkeypatch.setenv("NAZORG_OTEL_ENDPOINT", "http://127.0.0.1:9/v1/traces")
    reload_settings()
    try:
        provider = otel.provider()
        assert provider is not None and otel.provider() is provider
        assert gemaakt == ["http://127.0.0.1:9/v1/traces"]
        provider.shutdown()
    finally:
        otel._geconfigureerd.cache_clear()
        monkeypatch.delenv("NAZORG_OTEL_ENDPOINT")
        reload_settings()

"""What the batch needs from the Haal Centraal path: reused connections, 429 honoured, latency in parallel.

50,000 meldingen are 50,000 Reisdocumenten requests. They must share a few
kept-alive connections (the simulator counts the TCP connections it accepted),
slow down when the source says ``429`` with ``Retry-After`` (but never past the
deadline), and the simulator's added latency must hold up one request, not all.
All BSNs are synthetic 999-series test numbers from the population.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from nazorg.models import Reden
from nazorg.sources.answer import Antwoord
from nazorg.sources.deadline import Deadline
from nazorg.sources.errors import SourceError
from nazorg.sources.haal_centraal import BrpPersonenClient, ReisdocumentenClient
from nazorg_dev.sim import population as pop
from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer

pytestmark = pytest.mark.integration

PERSONEN = [p for p in pop.population() if not p.heeft_brp_signaal][:200]
BSNS = [p.bsn for p in PERSONEN]
# one connection for the sim's config and stats, kept open across tests so it is never counted
HTTP = httpx.Client(timeout=5, limits=httpx.Limits(keepalive_expiry=300))


@pytest.fixture(scope="module")
def sim() -> Iterator[HaalCentraalSimServer]:
    with HaalCentraalSimServer(port=0) as server:
        yield server
    HTTP.close()


def configure(sim: HaalCentraalSimServer, **changes: Any) -> None:
    response = HTTP.post(f"{sim.base_url}/_sim/config", json=changes)
    assert response.status_code == 200, response.text


def stats(sim: HaalCentraalSimServer) -> dict[str, Any]:
    result: dict[str, Any] = HTTP.get(f"{sim.base_url}/_sim/stats").json()
    return result


@pytest.fixture(autouse=True)
def schone_server(sim: HaalCentraalSimServer) -> None:
    configure(sim, latency_ms=0, fault=None, fault_first_n=None, fault_rate=1.0, retry_after_s=0)
    HTTP.post(f"{sim.base_url}/_sim/reset")


def test_de_pool_hergebruikt_zijn_verbindingen(sim: HaalCentraalSimServer) -> None:
    vandaag = date.today()
    with ReisdocumentenClient(sim.reisdocumenten_base_url, pool_size=8) as reis:
        eerste = reis.geldig_id_many(BSNS, vandaag)
        tweede = reis.geldig_id_many(BSNS, vandaag)  # the next chunk: the same connections
    assert eerste == tweede == {p.bsn: Antwoord(p.heeft_geldig_id) for p in PERSONEN}
    gezien = stats(sim)
    assert gezien["requests"]["reisdocumenten"] == 2 * len(BSNS)
    # one connection per worker at most (the config/stats client connected before the reset)
    assert 1 <= gezien["connections"] <= 8


def test_zonder_keep_alive_zou_elk_request_een_verbinding_kosten(sim: HaalCentraalSimServer) -> None:
    """The counter itself can tell: a client that closes after each request opens one per request."""
    url = f"{sim.reisdocumenten_base_url}/reisdocumenten"
    query = {"type": "ZoekMetBurgerservicenummer", "burgerservicenummer": BSNS[0], "fields": ["soort"]}
    for _ in range(5):
        with httpx.Client(timeout=5) as eenmalig:
            assert eenmalig.post(url, json=query).status_code == 200
    assert stats(sim)["connections"] == 5


def test_429_wacht_retry_after_af_en_vraagt_opnieuw(sim: HaalCentraalSimServer) -> None:
    configure(sim, fault="429", fault_first_n=1, retry_after_s=1)
    with ReisdocumentenClient(sim.reisdocumenten_base_url, backoff_s=0.0, deadline_s=10) as reis:
        begin = time.monotonic()
        antwoord = reis.geldig_id(BSNS[0], date.today())
        duur = time.monotonic() - begin
    assert antwoord == Antwoord(PERSONEN[0].heeft_geldig_id)
    assert duur >= 1.0  # the Retry-After of one second was waited out, not the 0 s backoff
    assert stats(sim)["requests"]["reisdocumenten"] == 2
    assert stats(sim)["statuses"]["429"] == 1


def test_429_met_retry_after_voorbij_de_deadline_wacht_niet(sim: HaalCentraalSimServer) -> None:
    configure(sim, fault="429", fault_first_n=1, retry_after_s=5)
    with ReisdocumentenClient(sim.reisdocumenten_base_url, deadline_s=1.5) as reis:
        begin = time.monotonic()
        with pytest.raises(SourceError) as fout:
            reis.geldig_id(BSNS[0], date.today())
        duur = time.monotonic() - begin
    assert fout.value.status == 429 and fout.value.reden is Reden.BRON_FOUT
    assert duur < 1.5  # given up at once: the wait would not fit in the deadline
    assert stats(sim)["requests"]["reisdocumenten"] == 1


def test_429_in_de_pool_vertraagt_alleen_wie_hem_kreeg(sim: HaalCentraalSimServer) -> None:
    configure(sim, fault="429", fault_first_n=4, retry_after_s=1)
    with ReisdocumentenClient(sim.reisdocumenten_base_url, pool_size=4, backoff_s=0.0) as reis:
        antwoorden = reis.geldig_id_many(BSNS[:40], date.today(), deadline=Deadline.after(20))
    assert antwoorden == {p.bsn: Antwoord(p.heeft_geldig_id) for p in PERSONEN[:40]}
    assert stats(sim)["statuses"]["429"] == 4
    assert stats(sim)["requests"]["reisdocumenten"] == 44


def test_toegevoegde_latency_houdt_de_andere_requests_niet_op(sim: HaalCentraalSimServer) -> None:
    configure(sim, latency_ms=300)
    with ReisdocumentenClient(sim.reisdocumenten_base_url, pool_size=10) as reis:
        reis.geldig_id(BSNS[0], date.today())  # warm: connect outside the measurement
        begin = time.monotonic()
        antwoorden = reis.geldig_id_many(BSNS[:10], date.today())
        duur = time.monotonic() - begin
    assert antwoorden == {p.bsn: Antwoord(p.heeft_geldig_id) for p in PERSONEN[:10]}
    assert duur >= 0.3  # every request waited its 300 ms
    assert duur < 2.0  # but side by side: one after the other would take 3 s


def test_latency_en_retry_after_via_de_configuratie(sim: HaalCentraalSimServer) -> None:
    configure(sim, latency_ms=20, retry_after_s=3)
    config = HTTP.get(f"{sim.base_url}/_sim/config").json()
    assert (config["latency_ms"], config["retry_after_s"]) == (20, 3)
    for onzin in ({"retry_after_s": -1}, {"retry_after_s": 1.5}, {"latency_ms": -5}):
        assert HTTP.post(f"{sim.base_url}/_sim/config", json=onzin).status_code == 400


def test_cli_neemt_latency_over() -> None:
    from nazorg.cli import build_parser

    args = build_parser().parse_args(["sim", "haal-centraal", "--latency-ms", "20", "--size", "60000"])
    assert (args.latency_ms, args.size) == (20.0, 60000)


def test_brp_personen_vraagt_de_chunks_van_20_naast_elkaar(sim: HaalCentraalSimServer) -> None:
    configure(sim, latency_ms=300)
    with BrpPersonenClient(sim.brp_base_url) as brp:
        begin = time.monotonic()
        antwoorden = brp.woonadres(BSNS[:100])
        duur = time.monotonic() - begin
    assert antwoorden == {p.bsn: Antwoord(p.verblijf == "woonadres") for p in PERSONEN[:100]}
    assert stats(sim)["requests"]["personen"] == 5  # still 20 BSNs per request
    assert duur < 1.2  # five requests of 300 ms, side by side (one after the other: 1.5 s)


def test_brp_personen_een_mislukte_chunk_laat_de_hele_vraag_mislukken(sim: HaalCentraalSimServer) -> None:
    configure(sim, fault="503", fault_first_n=1)
    with BrpPersonenClient(sim.brp_base_url, max_attempts=1) as brp, pytest.raises(SourceError) as fout:
        brp.woonadres(BSNS[:100])
    assert fout.value.status == 503
    assert 1 <= stats(sim)["requests"]["personen"] <= 5


@pytest.mark.parametrize("aangekondigd", [False, True], ids=["chunked", "content-length"])
def test_de_eigen_transport_weigert_een_te_groot_antwoord_ongelezen(
    sim: HaalCentraalSimServer, aangekondigd: bool
) -> None:
    """The clients' own requests skip httpx's client layer; the size cap still holds there."""
    configure(sim, fault="huge", huge_bytes=8 << 20, huge_declare_length=aangekondigd)
    with (
        ReisdocumentenClient(sim.reisdocumenten_base_url, max_attempts=1, max_body_bytes=64 << 10) as reis,
        pytest.raises(SourceError) as fout,
    ):
        reis.geldig_id(BSNS[0], date.today())
    assert fout.value.reden is Reden.BRON_FOUT
    assert stats(sim)["streamed_bytes"] < 4 << 20  # refused long before the 8 MiB were sent
    configure(sim, huge_bytes=64 << 20, huge_declare_length=False)


def test_retry_after_houdt_de_hele_pool_even_stil(sim: HaalCentraalSimServer) -> None:
    """A 429's Retry-After is about the client: the other workers wait too, then all is answered."""
    configure(sim, fault="429", fault_first_n=1, retry_after_s=2)
    resultaat: dict[str, Antwoord] = {}
    with ReisdocumentenClient(sim.reisdocumenten_base_url, pool_size=4, backoff_s=0.0) as reis:
        vandaag = date.today()
        werker = threading.Thread(target=lambda: resultaat.update(reis.geldig_id_many(BSNS[:40], vandaag)))
        begin = time.monotonic()
        werker.start()
        time.sleep(1.0)
        tijdens = stats(sim)["requests"]["reisdocumenten"]
        werker.join(timeout=30)
        duur = time.monotonic() - begin
    assert resultaat == {p.bsn: Antwoord(p.heeft_geldig_id) for p in PERSONEN[:40]}
    # the first request got the 429; at most the three already in flight went on
    assert tijdens <= 4
    assert duur >= 2.0
    assert stats(sim)["requests"]["reisdocumenten"] == 41

"""The source interface: one answer type, one error hierarchy, one adapter per kind.

The Haal Centraal clients run here over ``httpx.MockTransport`` with tiny
hand-written payloads, so every rule (every BSN answered, open is never nee,
a failure is never nee) is checked without a server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any

import httpx
import pytest

from nazorg.models import Reden
from nazorg.settings import settings
from nazorg.sources.answer import Antwoord
from nazorg.sources.builtin import ReisdocumentenAdapter
from nazorg.sources.errors import SourceError, SourceShapeError
from nazorg.sources.haal_centraal import MAX_BSNS_PER_REQUEST, BrpPersonenClient, ReisdocumentenClient
from nazorg.sources.kinds import BsnAdapter, Vraag, adapter_class, register_adapter, source_kinds
from nazorg.sources.live import LiveSources
from nazorg_dev.sim.population import synthetic_bsns

pytestmark = pytest.mark.unit
PEILDATUM = date(2026, 11, 29)
BSNS = [b for b, _ in zip(synthetic_bsns(), range(45), strict=False)]

Handler = Callable[[dict[str, Any]], httpx.Response]


@pytest.fixture
def mock_http() -> Iterator[Callable[[Handler], tuple[httpx.Client, list[dict[str, Any]]]]]:
    clients: list[httpx.Client] = []

    def make(handler: Handler) -> tuple[httpx.Client, list[dict[str, Any]]]:
        bodies: list[dict[str, Any]] = []

        def transport(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            bodies.append(body)
            return handler(body)

        client = httpx.Client(transport=httpx.MockTransport(transport))
        clients.append(client)
        return client, bodies

    yield make
    for client in clients:
        client.close()


def personen(*items: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"type": "RaadpleegMetBurgerservicenummer", "personen": list(items)})


def woont(bsn: str, soort: str = "Adres", code: str | None = "W") -> dict[str, Any]:
    verblijfplaats: dict[str, Any] = {"type": soort}
    if code is not None:
        verblijfplaats["functieAdres"] = {"code": code}
    return {"burgerservicenummer": bsn, "verblijfplaats": verblijfplaats}


# --------------------------------------------------------------------------- Antwoord


def test_antwoord_is_definite_or_onbekend_with_a_reden() -> None:
    assert Antwoord.ja("Team A") == Antwoord(True, "Team A")
    assert Antwoord.nee().definitief and not Antwoord.onbekend(Reden.BRON_FOUT).definitief
    assert Antwoord.uit(None) == Antwoord.onbekend(Reden.BRON_AMBIGU)
    assert Antwoord.uit(False) == Antwoord.nee()
    with pytest.raises(ValueError):
        Antwoord(None)  # onbekend without a reden
    with pytest.raises(ValueError):
        Antwoord(True, reden=Reden.BRON_FOUT)
    with pytest.raises(ValueError):
        Antwoord(None, "Team A", Reden.BRON_FOUT)  # no contact without an answer


# --------------------------------------------------------------------------- errors


def test_shape_error_is_not_a_source_error() -> None:
    """Every ``except SourceError`` means onbekend; over-collection must not take that road."""
    fout = SourceShapeError("lookup_kolommen_onjuist", ["bsn", "bedrag"])
    assert not isinstance(fout, SourceError)
    assert str(fout) == "lookup_kolommen_onjuist: kolommen bsn, bedrag"
    assert fout.kolommen == ("bsn", "bedrag")


def test_source_error_refuses_a_reason_that_is_not_a_source_reason() -> None:
    with pytest.raises(ValueError):
        SourceError(Reden.GEEN_TOESTEMMING)


# --------------------------------------------------------------------------- BRP Personen


def test_brp_answers_every_bsn_in_chunks_of_20(mock_http: Any) -> None:
    http, bodies = mock_http(lambda body: personen(*[woont(b) for b in body["burgerservicenummer"][1:]]))
    with BrpPersonenClient("http://brp.test", client=http) as brp:
        antwoorden = brp.woonadres([*BSNS, BSNS[0]])  # a repeated BSN is asked once
    # the chunks go out concurrently (up to 8 in flight), so in any order
    assert sorted(len(b["burgerservicenummer"]) for b in bodies) == [
        5,
        MAX_BSNS_PER_REQUEST,
        MAX_BSNS_PER_REQUEST,
    ]
    assert list(antwoorden) == BSNS
    niet_gevonden = {BSNS[0], BSNS[20], BSNS[40]}  # the first of each chunk is left out by the "server"
    for bsn, antwoord in antwoorden.items():
        verwacht = Antwoord.onbekend(Reden.PERSOON_NIET_GEVONDEN) if bsn in niet_gevonden else Antwoord.ja()
        assert antwoord == verwacht


def test_brp_open_answers_are_ambiguous_not_missing(mock_http: Any) -> None:
    a, b, c, d, e = BSNS[:5]
    http, _ = mock_http(
        lambda body: personen(
            woont(a, "Locatie", None),  # Locatie without functieAdres: open
            woont(b, "Adres", "W"),
            woont(b, "Adres", "B"),  # a second, conflicting record
            woont(c, "Locatie", "W"),  # a Locatie with functieAdres W: a woonadres
            woont(d, "Adres", "W"),
            woont(d, "Adres", "W"),  # a second record that agrees
        )
    )
    with BrpPersonenClient("http://brp.test", client=http) as brp:
        antwoorden = brp.woonadres([a, b, c, d, e])
    assert antwoorden == {
        a: Antwoord.onbekend(Reden.BRON_AMBIGU),
        b: Antwoord.onbekend(Reden.BRON_AMBIGU),
        c: Antwoord.ja(),
        d: Antwoord.ja(),
        e: Antwoord.onbekend(Reden.PERSOON_NIET_GEVONDEN),
    }


def test_brp_kinderen_open_date_is_ambiguous(mock_http: Any) -> None:
    a, b, c = BSNS[:3]
    jaar = {"type": "JaarDatum", "jaar": 2008}
    http, _ = mock_http(
        lambda body: personen(
            {"burgerservicenummer": a, "kinderen": [{"geboorte": {"datum": jaar}}]},
            {"burgerservicenummer": b},  # no kinderen: the API leaves the list out
        )
    )
    with BrpPersonenClient("http://brp.test", client=http) as brp:
        antwoorden = brp.minderjarige_kinderen([a, b, c], PEILDATUM)
    assert antwoorden == {
        a: Antwoord.onbekend(Reden.BRON_AMBIGU),
        b: Antwoord.nee(),
        c: Antwoord.onbekend(Reden.PERSOON_NIET_GEVONDEN),
    }


def test_brp_person_not_asked_for_is_a_source_error(mock_http: Any) -> None:
    http, _ = mock_http(lambda body: personen(woont(BSNS[5])))
    with BrpPersonenClient("http://brp.test", client=http) as brp, pytest.raises(SourceError) as info:
        brp.woonadres(BSNS[:2])
    assert BSNS[5] not in str(info.value)


# --------------------------------------------------------------------------- Reisdocumenten


def test_reisdocumenten_failure_for_one_bsn_is_that_bsns_onbekend(mock_http: Any) -> None:
    geldig = {"datumEindeGeldigheid": {"type": "Datum", "datum": "2030-01-01"}}

    def handler(body: dict[str, Any]) -> httpx.Response:
        if body["burgerservicenummer"] == BSNS[1]:
            return httpx.Response(404, json={"status": 404, "code": "notFound"})
        eigen = {**geldig, "houder": {"burgerservicenummer": BSNS[0]}}  # the client checks the holder
        documenten = [eigen] if body["burgerservicenummer"] == BSNS[0] else []
        return httpx.Response(200, json={"type": "ZoekMetBurgerservicenummer", "reisdocumenten": documenten})

    http, bodies = mock_http(handler)
    with ReisdocumentenClient("http://reis.test", client=http, backoff_s=0) as reis:
        antwoorden = reis.geldig_id_many(BSNS[:3], PEILDATUM, max_concurrency=2)
        enkel = reis.geldig_id_many(BSNS[1:2], PEILDATUM)
    assert antwoorden == {
        BSNS[0]: Antwoord.ja(),
        BSNS[1]: Antwoord.onbekend(Reden.BRON_FOUT),  # an error is never nee
        BSNS[2]: Antwoord.nee(),
    }
    assert enkel == {BSNS[1]: Antwoord.onbekend(Reden.BRON_FOUT)}
    assert len(bodies) == 4  # one request per BSN; a 404 is not retried


# --------------------------------------------------------------------------- id_bewijs: Reisdocumenten + BRP


def _id_bewijs_adapter(
    monkeypatch: pytest.MonkeyPatch, http: httpx.Client
) -> tuple[ReisdocumentenAdapter, Vraag]:
    from nazorg.connections import http_connection_json
    from nazorg.register import default_policy

    monkeypatch.setenv("AIRFLOW_CONN_HAAL_CENTRAAL_BRP", http_connection_json("http://brp.test"))
    monkeypatch.setenv("AIRFLOW_CONN_HAAL_CENTRAAL_REISDOCUMENTEN", http_connection_json("http://reis.test"))
    policy = default_policy()
    vraag = Vraag(policy.register.entry("id_bewijs"), policy.besluit("9901").checks["id_bewijs"], PEILDATUM)
    return ReisdocumentenAdapter(settings(), http=http), vraag


def test_id_bewijs_confirms_a_nee_in_brp_personen(mock_http: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reisdocumenten answers [] for a BSN the BRP does not know: that is onbekend, not nee.

    BSNS[0] has a valid document (ja, not asked in the BRP), BSNS[1] is known without
    documents (nee), BSNS[2] is unknown, BSNS[3] is known but overleden; the BRP is asked
    once for the three nee's, with only the burgerservicenummer as ``fields``.
    """
    geldig = {"datumEindeGeldigheid": {"type": "Datum", "datum": "2030-01-01"}}
    overleden = {
        "opschortingBijhouding": {"reden": {"code": "O"}, "datum": {"type": "Datum", "datum": "2026-01-01"}}
    }
    brp_kent = {
        BSNS[1]: {"burgerservicenummer": BSNS[1]},
        BSNS[3]: {"burgerservicenummer": BSNS[3], **overleden},
    }

    def handler(body: dict[str, Any]) -> httpx.Response:
        if body["type"] == "RaadpleegMetBurgerservicenummer":
            return personen(*(brp_kent[b] for b in body["burgerservicenummer"] if b in brp_kent))
        bsn = body["burgerservicenummer"]
        documenten = [{**geldig, "houder": {"burgerservicenummer": bsn}}] if bsn == BSNS[0] else []
        return httpx.Response(200, json={"type": "ZoekMetBurgerservicenummer", "reisdocumenten": documenten})

    http, bodies = mock_http(handler)
    adapter, vraag = _id_bewijs_adapter(monkeypatch, http)
    try:
        antwoorden = adapter.answer_bsns(vraag, BSNS[:4])
    finally:
        adapter.close()
    assert antwoorden == {
        BSNS[0]: Antwoord.ja(),
        BSNS[1]: Antwoord.nee(),
        BSNS[2]: Antwoord.onbekend(Reden.PERSOON_NIET_GEVONDEN),
        BSNS[3]: Antwoord.onbekend(Reden.PERSOON_OVERLEDEN),
    }
    brp = [b for b in bodies if b["type"] == "RaadpleegMetBurgerservicenummer"]
    assert brp == [
        {
            "type": "RaadpleegMetBurgerservicenummer",
            "burgerservicenummer": [BSNS[1], BSNS[2], BSNS[3]],
            "fields": ["burgerservicenummer"],
        }
    ]


def test_id_bewijs_asks_the_brp_20_bsns_a_request_and_not_for_a_ja(
    mock_http: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def handler(body: dict[str, Any]) -> httpx.Response:
        if body["type"] == "RaadpleegMetBurgerservicenummer":
            return personen(*({"burgerservicenummer": b} for b in body["burgerservicenummer"]))
        return httpx.Response(200, json={"type": "ZoekMetBurgerservicenummer", "reisdocumenten": []})

    http, bodies = mock_http(handler)
    adapter, vraag = _id_bewijs_adapter(monkeypatch, http)
    try:
        antwoorden = adapter.answer_bsns(vraag, BSNS)
    finally:
        adapter.close()
    assert antwoorden == dict.fromkeys(BSNS, Antwoord.nee())
    brp = [b["burgerservicenummer"] for b in bodies if b["type"] == "RaadpleegMetBurgerservicenummer"]
    assert sorted(map(len, brp)) == [5, 20, 20]  # 45 BSNs: three requests, not 45
    assert sorted(b for chunk in brp for b in chunk) == sorted(BSNS)


def test_id_bewijs_nee_stays_open_when_the_brp_cannot_confirm_it(
    mock_http: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def handler(body: dict[str, Any]) -> httpx.Response:
        if body["type"] == "RaadpleegMetBurgerservicenummer":
            return httpx.Response(400, json={"status": 400, "code": "paramsValidation"})
        return httpx.Response(200, json={"type": "ZoekMetBurgerservicenummer", "reisdocumenten": []})

    http, _ = mock_http(handler)
    adapter, vraag = _id_bewijs_adapter(monkeypatch, http)
    try:
        antwoorden = adapter.answer_bsns(vraag, BSNS[:2])
    finally:
        adapter.close()
    assert antwoorden == dict.fromkeys(BSNS[:2], Antwoord.onbekend(Reden.BRON_FOUT))  # an error is never nee


def test_id_bewijs_without_brp_verbinding_is_refused_by_the_register_check() -> None:
    from pathlib import Path

    from nazorg.register import BesluitCheck

    chosen = BesluitCheck(verbinding="haal_centraal_reisdocumenten", dossierverantwoordelijke="burgerzaken")
    problems = ReisdocumentenAdapter.besluit_problems("besluit 9999", "id_bewijs", chosen, Path("."))
    assert problems == [
        "besluit 9999: id_bewijs mist brp_verbinding "
        "(BRP Personen bevestigt een nee van haal_centraal_reisdocumenten)"
    ]


# --------------------------------------------------------------------------- registry


def test_the_shipped_kinds_are_registered() -> None:
    assert source_kinds() == [
        "gemeentelijk_sql",
        "haal_centraal_brp_personen",
        "haal_centraal_reisdocumenten",
        "melding",
    ]
    assert adapter_class("haal_centraal_reisdocumenten") is ReisdocumentenAdapter
    with pytest.raises(LookupError, match="onbekende bron telefoonboek"):
        adapter_class("telefoonboek")


def test_a_kind_has_one_adapter() -> None:
    class TweedeReisdocumenten(BsnAdapter):
        kind = "haal_centraal_reisdocumenten"

        def answer_bsns(self, vraag: Vraag, bsns: Sequence[str]) -> dict[str, Antwoord]:
            raise NotImplementedError

    with pytest.raises(ValueError, match="heeft al een adapter"):
        register_adapter(TweedeReisdocumenten)
    assert adapter_class("haal_centraal_reisdocumenten") is ReisdocumentenAdapter


def test_live_sources_open_one_adapter_per_kind() -> None:
    with LiveSources(settings()) as sources:
        reis = sources.adapter("haal_centraal_reisdocumenten")
        assert sources.adapter("haal_centraal_reisdocumenten") is reis
        assert isinstance(reis, ReisdocumentenAdapter)
        with pytest.raises(LookupError):
            sources.adapter("telefoonboek")

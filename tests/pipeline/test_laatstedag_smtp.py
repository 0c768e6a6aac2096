"""The SMTP notifier against a real SMTP server (aiosmtpd) through Airflow's SMTP provider and connection."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from nazorg import laatstedag
from nazorg.connections import ConnectionMissing
from nazorg.notificatie import SmtpNotifier
from nazorg.settings import SOURCE_ROOT
from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer
from tests.pipeline import test_laatstedag as base
from tests.pipeline import test_pipeline_steps as steps

pytestmark = pytest.mark.pipeline

CONN_ID = "nazorg_smtp_test"


def _vrije_poort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Postbus:
    """What the SMTP server received: (recipients, raw message bytes) per message."""

    berichten: list[tuple[list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.berichten.append((list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content)))
        return "250 OK"


def _conn(port: int) -> str:
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {
                "from_email": "nazorg@ruimhaven.example",
                "disable_tls": True,
                "disable_ssl": True,
                "retry_limit": 0,
                "timeout": 5,
            },
        }
    )


@pytest.fixture
def postbus(monkeypatch: pytest.MonkeyPatch) -> Iterator[Postbus]:
    from aiosmtpd.controller import Controller

    box = Postbus()
    port = _vrije_poort()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", _conn(port))
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hc_server: HaalCentraalSimServer, sqlite_bronnen: str
) -> Iterator[steps.World]:
    yield steps._world(tmp_path, monkeypatch, hc_server, sqlite_bronnen, SOURCE_ROOT)


def test_smtp_mails_exactly_the_teams_mailboxes_with_nothing_but_the_request(
    world: steps.World, postbus: Postbus
) -> None:
    topx, _ander = base._publish(world, base._index("9901", True), base._index("9901", False))
    ja = base._ja_contacts(world, topx["melding_id"])
    mailboxes = {t.email for t in base.BESLUITEN["9901"].teams if t.naam in set(ja.values())}
    base._dien_in(world, [base._laatste(topx)])
    notifier = SmtpNotifier(CONN_ID)
    notifier.controleer()
    telling = base._verwerk(world, notifier)
    laatstedag.inseinen(world.store, world.rt.policy, notifier, max_pogingen=3, nu=lambda: base.NU)

    assert telling.verwerkt == 1
    ontvangen = [rcpt for rcpt, _ in postbus.berichten]
    assert all(len(r) == 1 for r in ontvangen)
    laatste_dag = sorted(r[0] for r in ontvangen)
    # every ja team once, plus the regievoerder's inseinen message (topx-regie is also a ja contact)
    assert sorted(set(laatste_dag)) == sorted(mailboxes | {"topx-regie@ruimhaven.example"})
    assert len(laatste_dag) == len(mailboxes) + 1
    for _, raw in postbus.berichten:
        assert topx["bsn"].encode() not in raw
        mail = message_from_bytes(raw, policy=policy.default)
        body = mail.get_body(preferencelist=("html", "plain"))
        assert body is not None
        tekst = f"{mail['Subject']}\n{body.get_content()}"
        base._assert_minimal(tekst.encode(), topx["bsn"])
        assert topx["melding_id"] in tekst
    rows = base._notificaties(world)
    assert {(r["kanaal"], r["status"]) for r in rows} == {("smtp", "verzonden")}


def test_an_unreachable_server_is_recorded_and_retried_not_raised(
    world: steps.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", _conn(_vrije_poort()))  # nobody listens
    (topx,) = base._publish(world, base._index("9901", True))
    base._dien_in(world, [base._laatste(topx)])
    telling = base._verwerk(world, SmtpNotifier(CONN_ID))
    assert telling.voor_xcom() == {"verwerkt": 0, "wachtend": 1, "mislukt": 0}
    rows = base._notificaties(world)
    assert rows and {(r["status"], r["reden"]) for r in rows} == {("mislukt", "smtp_verbinding")}
    assert base._status(world, topx["melding_id"]) == "ontvangen"


def test_a_missing_smtp_connection_fails_before_anything_is_due(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_NAZORG_SMTP_ONTBREEKT", raising=False)
    with pytest.raises(ConnectionMissing):
        SmtpNotifier("nazorg_smtp_ontbreekt").controleer()

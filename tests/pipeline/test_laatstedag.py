"""Laatstedagsmelding and top-x inseinen on published meldingen (in-process pipeline, SQLite, HTTP sim).

The expected teams come from the published basisdocument (its ja answers and
their contacts) and the besluit YAML, not from the code under test's query of
the uitkomst table, so a wrong join or a missing filter shows up here.
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from nazorg import laatstedag
from nazorg.intake import decode, nieuwe_inzending
from nazorg.models import Aandachtsgebied, Kanaal, NotificatieSoort
from nazorg.notificatie import Bericht, BestandNotifier, VerzendFout
from nazorg.register import load_besluiten
from nazorg.settings import SOURCE_ROOT
from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer
from nazorg_dev.sim.meldingen import meldingen
from nazorg_dev.sim.population import population
from tests.pipeline import test_pipeline_steps as steps

pytestmark = pytest.mark.pipeline

NU = "2026-11-30T05:00:00.000+00:00"
BESLUITEN = load_besluiten(SOURCE_ROOT / "register")
UITKOMST_WOORDEN = re.compile(r"\b(ja|nee|onbekend|niet_uitgevoerd|uitkomst)\b", re.IGNORECASE)
VERBODEN = sorted({c for b in BESLUITEN.values() for c in b.checks} | {a.value for a in Aandachtsgebied})


def _index(gemeente: str, topx: bool) -> int:
    """A person of the population in ``gemeente`` with (or without) top-x, and several other answers."""
    for i, p in enumerate(population()):
        gezocht = p.gemeente_code == gemeente and p.doelgroep_topx == topx and p.opschorting is None
        if gezocht and (not topx or p.ggz_risico):
            return i
    raise AssertionError("no such person in the population")


def _record(index: int) -> dict[str, Any]:
    return next(meldingen(1, offset=index))


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hc_server: HaalCentraalSimServer, sqlite_bronnen: str
) -> Iterator[steps.World]:
    yield steps._world(tmp_path, monkeypatch, hc_server, sqlite_bronnen, SOURCE_ROOT)


def _publish(world: steps.World, *indices: int) -> list[dict[str, Any]]:
    records = [_record(i) for i in indices]
    world.submit(records)
    for record in records:
        world.run(str(record["melding_id"]))
    return records


def _ja_contacts(world: steps.World, melding_id: str) -> dict[str, str]:
    """check_id -> published contact name of every ja in the published document."""
    rows = world.store.query("outbox_get", {"melding_id": melding_id})
    document = json.loads(rows[0]["inhoud"])
    return {
        c["check_id"]: c["dossierverantwoordelijke"]
        for g in document["aandachtsgebieden"]
        for c in g["checks"]
        if c["uitkomst"] == "ja"
    }


def _team_id(gemeente: str, naam: str) -> str:
    return next(t.id for t in BESLUITEN[gemeente].teams if t.naam == naam)


def _dien_in(world: steps.World, records: list[dict[str, Any]]) -> laatstedag.Inzendingsresultaat:
    inzending = nieuwe_inzending()
    data = "\n".join(json.dumps(r) for r in records)
    judged = laatstedag.beoordeel_alle(decode(data, inzending), world.rt.policy.besluiten, date.today())
    return laatstedag.dien_in(world.store, judged, inzending=inzending, nu=lambda: NU)


def _laatste(record: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "melding_id": record["melding_id"],
        "bsn": record["bsn"],
        "datum_uitstroom": date.today().isoformat(),
        **extra,
    }


def _verstuurd(root: Path) -> dict[tuple[str, str], list[bytes]]:
    """(gemeente, team) -> file contents of every notification the file notifier wrote."""
    found: dict[tuple[str, str], list[bytes]] = {}
    for path in sorted(root.rglob("*.txt")):
        gemeente, team = path.parent.parent.name, path.parent.name
        found.setdefault((gemeente, team), []).append(path.read_bytes())
    return found


def _assert_minimal(message: bytes, bsn: str) -> None:
    tekst = message.decode()
    assert bsn not in tekst and bsn.lstrip("0") not in tekst
    assert not UITKOMST_WOORDEN.search(tekst), tekst
    assert not [w for w in VERBODEN if re.search(rf"\b{re.escape(w)}\b", tekst, re.IGNORECASE)], tekst
    assert "neem contact op" in tekst


def _notificaties(world: steps.World) -> list[dict[str, Any]]:
    with world.store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM notificatie ORDER BY melding_id, gemeente_code, team_id"))
        return [dict(r._mapping) for r in rows]


def _status(world: steps.World, melding_id: str) -> str:
    rows = world.store.query("laatstedag/laatstedag_get", {"melding_id": melding_id})
    return str(rows[0]["status"])


def _verwerk(world: steps.World, notifier: Any, max_pogingen: int = 3) -> laatstedag.Telling:
    return laatstedag.verwerk(
        world.store, world.rt.policy, notifier, max_pogingen=max_pogingen, nu=lambda: NU
    )


def test_the_teams_of_the_ja_answers_are_told_once_and_nobody_else(
    world: steps.World, tmp_path: Path
) -> None:
    topx, ander = _publish(world, _index("9901", True), _index("9901", False))
    ja = _ja_contacts(world, topx["melding_id"])
    assert len(ja) >= 2, "the chosen person must have several ja answers"
    expected = {("9901", _team_id("9901", naam)) for naam in ja.values()}

    assert _dien_in(world, [_laatste(topx)]).aantallen["opgeslagen"] == 1
    root = tmp_path / "notificaties"
    telling = _verwerk(world, BestandNotifier(root))

    assert telling.voor_xcom() == {"verwerkt": 1, "wachtend": 0, "mislukt": 0}
    sent = _verstuurd(root)
    assert set(sent) == expected  # exactly these teams: not the other melding's, not the nee checks'
    assert all(len(files) == 1 for files in sent.values())  # a team with two ja checks: one message
    for files in sent.values():
        _assert_minimal(files[0], topx["bsn"])
        assert topx["melding_id"].encode() in files[0]
    rows = _notificaties(world)
    assert {(r["gemeente_code"], r["team_id"]) for r in rows} == expected
    assert {(r["melding_id"], r["soort"], r["kanaal"], r["status"], r["verzonden_op"]) for r in rows} == {
        (topx["melding_id"], "laatstedagsmelding", "bestand", "verzonden", NU)
    }
    assert _status(world, topx["melding_id"]) == "verwerkt"
    assert ander["melding_id"] not in {r["melding_id"] for r in rows}

    # idempotent: the same file again stores nothing, a second run sends nothing
    assert _dien_in(world, [_laatste(topx)]).aantallen["al_aanwezig"] == 1
    assert _verwerk(world, BestandNotifier(root)).voor_xcom() == {"verwerkt": 0, "wachtend": 0, "mislukt": 0}
    assert _verstuurd(root) == sent and len(_notificaties(world)) == len(rows)


def test_hervestiging_routes_each_ja_to_that_gemeentes_default_team(
    world: steps.World, tmp_path: Path
) -> None:
    (topx,) = _publish(world, _index("9901", True))
    ja = _ja_contacts(world, topx["melding_id"])
    strikdorp = BESLUITEN["9902"]
    expected = {
        ("9902", strikdorp.checks[c].dossierverantwoordelijke)
        if c in strikdorp.checks
        else ("9901", _team_id("9901", naam))
        for c, naam in ja.items()
    }
    assert any(g == "9901" for g, _ in expected), "a check Strikdorp does not perform stays in Ruimhaven"

    _dien_in(world, [_laatste(topx, gemeente_hervestiging="9902")])
    root = tmp_path / "notificaties"
    _verwerk(world, BestandNotifier(root))
    assert set(_verstuurd(root)) == expected


def test_a_melding_not_yet_published_waits_and_is_told_once_published(
    world: steps.World, tmp_path: Path
) -> None:
    record = _record(_index("9901", True))
    world.submit([record])
    _dien_in(world, [_laatste(record)])
    root = tmp_path / "notificaties"
    assert _verwerk(world, BestandNotifier(root)).voor_xcom() == {"verwerkt": 0, "wachtend": 1, "mislukt": 0}
    assert _notificaties(world) == [] and _status(world, record["melding_id"]) == "ontvangen"
    world.run(record["melding_id"])
    assert _verwerk(world, BestandNotifier(root)).verwerkt == 1
    assert _verstuurd(root)


class Weigert:
    """A notifier whose sends fail ``keer`` times, then succeed."""

    kanaal = Kanaal.SMTP

    def __init__(self, keer: int) -> None:
        self.keer = keer
        self.pogingen = 0

    def controleer(self) -> None:
        pass

    def verstuur(self, bericht: Bericht) -> None:
        self.pogingen += 1
        if self.pogingen <= self.keer:
            raise VerzendFout("smtp_verbinding")


def test_a_failed_send_is_retried_next_run_then_given_up_and_quarantined(world: steps.World) -> None:
    (topx,) = _publish(world, _index("9901", True))
    teams = len({_team_id("9901", n) for n in _ja_contacts(world, topx["melding_id"]).values()})
    _dien_in(world, [_laatste(topx)])

    # fails once for every team, then works: one retry run settles it
    notifier = Weigert(keer=teams)
    assert _verwerk(world, notifier).voor_xcom() == {"verwerkt": 0, "wachtend": 1, "mislukt": 0}
    assert {r["reden"] for r in _notificaties(world)} == {"smtp_verbinding"}
    assert _verwerk(world, notifier).voor_xcom() == {"verwerkt": 1, "wachtend": 0, "mislukt": 0}
    statuses = [r["status"] for r in _notificaties(world)]
    assert statuses.count("mislukt") == teams and statuses.count("verzonden") == teams


def test_sends_that_keep_failing_stop_after_the_bound(world: steps.World) -> None:
    (topx,) = _publish(world, _index("9901", True))
    _dien_in(world, [_laatste(topx)])
    notifier = Weigert(keer=10_000)
    runs = [_verwerk(world, notifier, max_pogingen=2).voor_xcom() for _ in range(4)]
    assert runs[0]["wachtend"] == 1 and runs[1]["mislukt"] == 1
    assert runs[2] == runs[3] == {"verwerkt": 0, "wachtend": 0, "mislukt": 0}  # never tried again
    teams = len({r["team_id"] for r in _notificaties(world)})
    assert notifier.pogingen == 2 * teams
    assert _status(world, topx["melding_id"]) == "mislukt"
    rows = world.store.query("quarantaine_list")
    assert any(r["reden_code"] == "notificatie_mislukt" and r["fase"] == "publiceer" for r in rows)


def test_inseinen_tells_the_regievoerder_once_and_only_for_topx(world: steps.World, tmp_path: Path) -> None:
    topx, ander, strikdorp = _publish(
        world, _index("9901", True), _index("9901", False), _index("9902", True)
    )
    assert _ja_contacts(world, topx["melding_id"]).get("doelgroep_topx")
    root = tmp_path / "notificaties"
    for _ in range(2):  # the second sweep finds nothing left to do
        laatstedag.inseinen(
            world.store, world.rt.policy, BestandNotifier(root), max_pogingen=3, nu=lambda: NU
        )
    sent = _verstuurd(root)
    assert set(sent) == {("9901", "topx-regie")} and len(sent["9901", "topx-regie"]) == 1
    _assert_minimal(sent["9901", "topx-regie"][0], topx["bsn"])
    rows = _notificaties(world)
    assert [(r["melding_id"], r["soort"], r["status"]) for r in rows] == [
        (topx["melding_id"], NotificatieSoort.INSEINEN.value, "verzonden")
    ]
    assert ander["melding_id"] not in str(sent) and strikdorp["melding_id"] not in str(sent)


def test_the_file_notifier_writes_owner_only(world: steps.World, tmp_path: Path) -> None:
    (topx,) = _publish(world, _index("9901", True))
    _dien_in(world, [_laatste(topx)])
    root = tmp_path / "var" / "notificaties"
    _verwerk(world, BestandNotifier(root))
    paths = list(root.rglob("*"))
    assert paths
    for path in [root, *paths]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    assert not any(topx["melding_id"] in str(p) for p in paths)  # files are named by notification id
    assert not [p for p in paths if p.name.endswith(".tmp")]


def test_uitstroom_before_binnenkomst_is_refused(world: steps.World) -> None:
    record = _record(_index("9901", False))
    world.submit([record])
    binnen = date.fromisoformat(record["datum_binnenkomst"])
    resultaat = _dien_in(world, [_laatste(record, datum_uitstroom=(binnen - timedelta(days=1)).isoformat())])
    assert resultaat.aantallen["quarantaine"] == 1
    assert any(r["reden_code"] == "uitstroom_voor_binnenkomst" for r in world.store.query("quarantaine_list"))

"""`nazorg toestemming`: BSN from stdin or a file, melding found in the inbox, no BSN or outcome out."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from nazorg import cli
from tests.batch.conftest import BatchWorld
from tests.batch.test_toestemming import GATED, _records


def _nazorg(
    world: BatchWorld,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr(cli, "_runtime", lambda: world.rt)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _geheim(world: BatchWorld, bsn: str) -> list[str]:
    """What the CLI must never print: the BSN and any outcome's contact or value."""
    contacts = [
        str(r["dossierverantwoordelijke"])
        for r in world.rows("SELECT DISTINCT dossierverantwoordelijke FROM uitkomst")
        if r["dossierverantwoordelijke"]
    ]
    return [bsn, *contacts, '"ja"', '"nee"', " ja", " nee", "niet_uitgevoerd", "onbekend"]


def test_record_show_and_withdraw_with_the_bsn_on_stdin(
    batch_world: BatchWorld,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    (record,) = _records(batch_world, consent=False, aantal=1, offset=820)
    (melding_id,) = batch_world.submit([record])
    batch_world.run_per_melding(melding_id)
    bsn = record["bsn"]
    geschreven = f"{bsn[:4]} {bsn[4:]}\n"  # typed with a space: matched in canonical form

    code, out, err = _nazorg(
        batch_world,
        monkeypatch,
        capsys,
        [
            "toestemming",
            "vastleggen",
            "--soort",
            "overeenkomst",
            "--basisvoorwaarde",
            "huisvesting_onderdak",
            "--check",
            "uitkering_voorschot",
            "--tekst-versie",
            "modelovereenkomst-2026.1",
            "--door",
            "casemanager",
        ],
        geschreven,
    )
    assert (code, err) == (0, "")
    assert melding_id in out and "huurschuld, uitkering_voorschot" in out
    uit: list[str] = [out]

    bestand = tmp_path / "bsn.txt"
    bestand.write_text(bsn, encoding="utf-8")
    code, out, err = _nazorg(
        batch_world,
        monkeypatch,
        capsys,
        ["toestemming", "toon", "--bsn-bestand", str(bestand), "--format", "json"],
    )
    assert code == 0, err
    getoond = json.loads(out)
    (rec,) = getoond["toestemmingen"]
    assert (getoond["melding_id"], rec["soort"], tuple(rec["checks"])) == (melding_id, "overeenkomst", GATED)
    assert (rec["tekst_versie"], rec["vastgelegd_door"], rec["ingetrokken_op"]) == (
        "modelovereenkomst-2026.1",
        "casemanager",
        None,
    )
    uit.append(out)

    # the next batch asks the checks now covered; the CLI printed nothing about outcomes meanwhile
    from tests.batch.test_toestemming import _batch

    assert _batch(batch_world) == (1, 1)
    code, out, err = _nazorg(
        batch_world,
        monkeypatch,
        capsys,
        ["toestemming", "intrekken", "--toestemming", rec["toestemming_id"], "--door", "casemanager"],
        bsn,
    )
    assert code == 0, err
    assert "huurschuld, uitkering_voorschot" in out and "versie 3" in out
    uit.append(out)
    code, out, err = _nazorg(batch_world, monkeypatch, capsys, ["toestemming", "toon"], bsn)
    assert code == 0 and "ingetrokken" in out and "casemanager" in out
    uit.append(out)
    for tekst in uit:
        for geheim in _geheim(batch_world, bsn):
            assert geheim not in tekst, geheim


def test_no_melding_several_meldingen_and_a_bad_bsn_are_clear_errors(
    batch_world: BatchWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (record,) = _records(batch_world, consent=False, aantal=1, offset=840)
    bsn = record["bsn"]
    toon = ["toestemming", "toon"]

    code, out, err = _nazorg(batch_world, monkeypatch, capsys, toon, bsn)
    assert code == 3 and "geen_melding" in err and bsn not in out + err

    code, out, err = _nazorg(batch_world, monkeypatch, capsys, toon, "999990018")  # fails the elfproef
    assert code == 2 and "bsn_ongeldig" in err and "999990018" not in out + err
    code, _, err = _nazorg(batch_world, monkeypatch, capsys, toon, bsn * 10)  # far too long: not read on
    assert code == 2 and "bsn_ongeldig" in err and bsn not in err

    ids = batch_world.submit([record, {**record, "melding_id": f"{record['melding_id']}-B"}])
    code, out, err = _nazorg(batch_world, monkeypatch, capsys, toon, bsn)
    assert code == 4 and "meerdere_meldingen" in err and "--melding" in err and bsn not in out + err
    code, out, err = _nazorg(batch_world, monkeypatch, capsys, [*toon, "--melding", ids[1]], bsn)
    assert code == 0 and ids[1] in out
    (ander,) = _records(batch_world, consent=False, aantal=1, offset=860)
    code, out, err = _nazorg(batch_world, monkeypatch, capsys, [*toon, "--melding", ids[1]], ander["bsn"])
    assert code == 3 and "melding_niet_van_bsn" in err

    vastleggen = [
        "toestemming",
        "vastleggen",
        "--melding",
        ids[0],
        "--soort",
        "toestemming",
        "--tekst-versie",
        "v1",
        "--door",
        "casemanager",
    ]
    code, _, err = _nazorg(batch_world, monkeypatch, capsys, [*vastleggen, "--check", "schuld_cjib"], bsn)
    assert code == 2 and "check_zonder_toestemming" in err
    assert batch_world.scalar("SELECT COUNT(*) FROM toestemming") == 0


def test_a_bsn_on_the_command_line_is_refused_before_anything_runs(
    batch_world: BatchWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (record,) = _records(batch_world, consent=False, aantal=1, offset=880)
    batch_world.submit([record])

    def nooit() -> Any:
        raise AssertionError("no runtime for a refused command line")

    monkeypatch.setattr(cli, "_runtime", nooit)
    for argv in (["toestemming", "toon", "--bsn", record["bsn"]], ["toestemming", "toon", record["bsn"]]):
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code == 2
    capsys.readouterr()

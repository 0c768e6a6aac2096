"""`nazorg bewaartermijn`, `inzage` and `verwijder` on a SQLite pipeline DB (no Airflow).

The BSN goes in on stdin or in a file, never on the command line; the output
never holds it. This DB is at this branch's schema, without revision 0009, so
consent is reported as not yet kept per melding (the pre-merge path).
"""

from __future__ import annotations

import io
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from nazorg.cli import NIET_GEVONDEN, build_parser, main
from nazorg_dev.sim.meldingen import meldingen

pytestmark = pytest.mark.unit


@pytest.fixture
def records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, object]]]:
    from nazorg.store import dispose_engines

    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_DB", f"sqlite:///{tmp_path / 'nazorg.db'}")
    monkeypatch.setenv("NAZORG_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("NAZORG_PARQUET_DIR", str(tmp_path / "parquet"))
    dispose_engines()
    assert main(["db", "upgrade"]) == 0
    recs = list(meldingen(3, offset=200))
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in recs), encoding="utf-8")
    assert main(["melding", "indienen", str(path)]) == 0
    yield recs
    dispose_engines()


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_no_command_takes_a_bsn_as_an_argument() -> None:
    parser = build_parser()
    for command in ("inzage", "verwijder"):
        with pytest.raises(SystemExit):
            parser.parse_args([command, "999000007"])


def test_inzage_reads_the_bsn_from_stdin_and_prints_the_persons_meldingen_only(
    records: list[dict[str, object]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    _stdin(monkeypatch, f"{records[0]['bsn']}\n")
    assert main(["inzage"]) == 0
    out, err = capsys.readouterr()
    assert "# Inzage in persoonsgegevens (AVG artikel 15)" in out
    assert str(records[0]["melding_id"]) in out
    assert str(records[1]["melding_id"]) not in out
    assert all(str(r["bsn"]) not in out + err for r in records)
    assert "## Toestemmingen en overeenkomsten" in out


def test_inzage_to_a_file_is_owner_only_and_bad_or_unknown_input_has_its_own_exit_code(
    records: list[dict[str, object]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bestand = tmp_path / "bsn.txt"
    bestand.write_text(str(records[1]["bsn"]), encoding="utf-8")
    uit = tmp_path / "inzage.md"
    uit.write_text("oud", encoding="utf-8")
    uit.chmod(0o644)
    assert main(["inzage", "--bsn-bestand", str(bestand), "--uit", str(uit)]) == 0
    assert stat.S_IMODE(uit.stat().st_mode) == 0o600
    assert str(records[1]["melding_id"]) in uit.read_text(encoding="utf-8")
    capsys.readouterr()
    _stdin(monkeypatch, "999000008\n")  # fails the elfproef
    assert main(["inzage"]) == 2
    _stdin(monkeypatch, "999000020\n")  # valid, nobody we hold
    assert main(["inzage"]) == NIET_GEVONDEN
    _, err = capsys.readouterr()
    assert "niets opgeslagen" in err and "999000020" not in err and "999000008" not in err


def test_verwijder_then_inzage_finds_nothing_and_bewaartermijn_dry_run_counts(
    records: list[dict[str, object]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["bewaartermijn", "--dry-run", "--json", "--peildatum", "2099-01-01"]) == 0
    telling = json.loads(capsys.readouterr().out)
    assert telling["droog"] is True and telling["inbox_bsn"] == 3  # every term long run by 2099
    _stdin(monkeypatch, str(records[2]["bsn"]))
    assert main(["verwijder", "--json"]) == 0
    verslag = json.loads(capsys.readouterr().out)
    assert verslag["verwijderd"]["inbox_bsn"] == 1
    assert "inbox_grafsteen" in verslag["bewaard"]
    _stdin(monkeypatch, str(records[2]["bsn"]))
    assert main(["inzage"]) == NIET_GEVONDEN
    # the dry run deleted nothing: the other two are still found
    _stdin(monkeypatch, str(records[0]["bsn"]))
    assert main(["inzage"]) == 0
    capsys.readouterr()
    assert main(["bewaartermijn", "--peildatum", "2099-01-01"]) == 0
    out = capsys.readouterr().out
    assert "inbox_bsn" in out and "verwijderd" in out
    _stdin(monkeypatch, str(records[0]["bsn"]))
    assert main(["inzage"]) == NIET_GEVONDEN

"""The operators' CLI against a SQLite pipeline DB (no Airflow needed for these commands)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nazorg.cli import main
from nazorg_dev.sim.meldingen import meldingen, ongeldige_meldingen

pytestmark = pytest.mark.unit


@pytest.fixture
def pipeline_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pipeline DB brought to the current schema, as an operator does with `nazorg db upgrade`."""
    from nazorg.store import dispose_engines

    db = tmp_path / "nazorg.db"
    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_DB", f"sqlite:///{db}")
    dispose_engines()
    assert main(["db", "upgrade"]) == 0
    yield db
    dispose_engines()


def test_indienen_stores_valid_and_quarantines_invalid_without_values(
    pipeline_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [*meldingen(3), *ongeldige_meldingen()]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + "niet-json\n")
    assert main(["melding", "indienen", str(path)]) == 0
    assert (
        "8 melding(en): 3 opgeslagen, 0 al aanwezig, 0 conflict, 5 in quarantaine" in capsys.readouterr().out
    )

    assert main(["melding", "indienen", str(path)]) == 0  # again: nothing new, nothing lost
    assert "0 opgeslagen, 3 al aanwezig" in capsys.readouterr().out

    assert main(["quarantaine", "lijst", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["reden_code"] for r in rows} >= {
        "bsn_elfproef",
        "gemeente_onbekend",
        "onbekend_veld",
        "datum_in_toekomst",
        "geen_json",
    }
    assert any(re.fullmatch(r"inzending:[0-9a-f]{32}:8", r["herkomst"]) for r in rows)
    assert not any("in.jsonl" in r["herkomst"] for r in rows)
    dump = json.dumps(rows)
    for record in ongeldige_meldingen():
        assert record["bsn"] not in dump


def test_changed_melding_with_same_id_is_a_conflict(
    pipeline_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = next(meldingen(1))
    path = tmp_path / "one.json"
    path.write_text(json.dumps(record))
    main(["melding", "indienen", str(path)])
    path.write_text(json.dumps({**record, "inrichting": "PI Noorderveld"}))
    main(["melding", "indienen", str(path)])
    assert "1 conflict" in capsys.readouterr().out


def test_toon_without_document_says_so(pipeline_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["basisdocument", "toon", "EDM-000001"]) == 1
    assert "geen gepubliceerd basisdocument" in capsys.readouterr().err


def test_db_upgrade_is_idempotent_and_current_tells_whether_it_is_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from nazorg.migrations import HEAD
    from nazorg.store import dispose_engines

    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_DB", f"sqlite:///{tmp_path / 'nieuw.db'}")
    dispose_engines()
    assert main(["db", "current"]) == 1
    assert "revisie geen; deze versie verwacht" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert f"bijgewerkt: revisie geen -> {HEAD}" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert f"staat al op revisie {HEAD}" in capsys.readouterr().out
    assert main(["db", "current"]) == 0
    assert f"op revisie {HEAD} (actueel)" in capsys.readouterr().out
    dispose_engines()


def test_commands_refuse_a_pipeline_db_that_was_not_upgraded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from nazorg.store import dispose_engines

    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_DB", f"sqlite:///{tmp_path / 'nieuw.db'}")
    dispose_engines()
    assert main(["quarantaine", "lijst"]) == 2
    assert "voer `nazorg db upgrade` uit" in capsys.readouterr().err
    dispose_engines()


def test_sim_meldingen_are_valid_input(capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import date

    from nazorg.intake import beoordeel_alle, decode, nieuwe_inzending

    assert main(["sim", "meldingen", "--aantal", "5", "--ongeldig", "2"]) == 0
    out = capsys.readouterr().out
    judged = beoordeel_alle(decode(out, nieuwe_inzending()), {"9901", "9902"}, date.today())
    assert [b.melding is not None for b in judged] == [True] * 5 + [False] * 2


def test_indienen_without_a_readable_file_exits_2_without_naming_it(
    pipeline_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    fifo = tmp_path / "pijp_999000019"
    os.mkfifo(fifo)  # reading it would block forever
    for target, message in [
        (tmp_path / "weg_999000019.jsonl", "niet gevonden"),
        (tmp_path, "map"),
        (fifo, "geen gewoon bestand"),
    ]:
        assert main(["melding", "indienen", str(target)]) == 2
        out, err = capsys.readouterr()
        assert message in err
        assert "999000019" not in out + err
        assert "Traceback" not in out + err


def test_indienen_stores_neither_the_file_name_nor_unknown_field_names(
    pipeline_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = next(meldingen(1))
    path = tmp_path / "meldingen_999000019.jsonl"
    lines = [
        json.dumps({**record, "hiv_positief": True}),
        "[" * 100_000,
        json.dumps(next(meldingen(1, offset=1))),
    ]
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode())
    assert main(["melding", "indienen", str(path)]) == 0
    out = capsys.readouterr().out
    assert "3 melding(en): 1 opgeslagen, 0 al aanwezig, 0 conflict, 2 in quarantaine" in out
    assert "999000019" not in out

    assert main(["quarantaine", "lijst", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {(r["reden_code"], r["veld"]) for r in rows} == {
        ("onbekend_veld", "<onbekend_veld:1>"),
        ("te_groot", None),
    }
    dump = json.dumps(rows)
    for secret in ("999000019", "meldingen_", "hiv", record["bsn"]):
        assert secret not in dump


def test_indienen_reads_utf16_with_a_bom(
    pipeline_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "utf16.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in meldingen(2)), encoding="utf-16")
    assert main(["melding", "indienen", str(path)]) == 0
    assert "2 melding(en): 2 opgeslagen" in capsys.readouterr().out


def test_indienen_too_large_file_is_quarantined_and_exits_2(
    pipeline_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from nazorg import intake

    monkeypatch.setattr(intake, "MAX_FILE_BYTES", 100)
    path = tmp_path / "groot.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in meldingen(2)))
    assert main(["melding", "indienen", str(path)]) == 2
    assert "bestand_te_groot" in capsys.readouterr().err
    assert main(["quarantaine", "lijst", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [
        (r["reden_code"], bool(re.fullmatch(r"inzending:[0-9a-f]{32}", r["herkomst"]))) for r in rows
    ] == [("bestand_te_groot", True)]


def test_a_missing_connection_is_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_NAZORG_DB", raising=False)
    assert main(["basisdocument", "toon", "EDM-000001"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nazorg: connection 'nazorg_db' is not configured")
    assert "Traceback" not in err


def test_sim_bronnen_runs_again_safely_and_gives_later_meldingen_consent(
    pipeline_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make up`'s meldingen submitted later get consent by running `nazorg sim bronnen` again.

    Again means: the same source rows, no consent recorded twice or changed (its
    time stays), a withdrawal stands, and the new meldingen's people get theirs.
    """
    from sqlalchemy import create_engine, text

    from nazorg.store import dispose_engines

    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_BRONNEN", f"sqlite:///{tmp_path / 'bronnen.db'}")
    dispose_engines()
    records = list(meldingen(30))
    eerst, later = tmp_path / "eerst.jsonl", tmp_path / "later.jsonl"
    eerst.write_text("".join(json.dumps(r) + "\n" for r in records[:15]))
    later.write_text("".join(json.dumps(r) + "\n" for r in records[15:]))

    def toestemmingen() -> list[tuple[object, ...]]:
        engine = create_engine(f"sqlite:///{pipeline_db}")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM toestemming ORDER BY toestemming_id")).all()
            checks = conn.execute(text("SELECT * FROM toestemming_check ORDER BY 1, 2")).all()
        engine.dispose()
        return [tuple(r) for r in rows] + [tuple(c) for c in checks]

    def bronnen() -> dict[str, int]:
        engine = create_engine(f"sqlite:///{tmp_path / 'bronnen.db'}")
        with engine.connect() as conn:
            tables = [t for (t,) in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))]
            counts = {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in tables}
        engine.dispose()
        return counts

    assert main(["melding", "indienen", str(eerst)]) == 0
    assert main(["sim", "bronnen"]) == 0
    eerste = toestemmingen()
    assert eerste  # some of these people consented
    bron = bronnen()
    engine = create_engine(f"sqlite:///{pipeline_db}")
    with engine.begin() as conn:  # one person withdrew since
        conn.execute(
            text(
                "UPDATE toestemming SET ingetrokken_op = '2026-11-30T00:00:00', ingetrokken_door = 'x' "
                "WHERE toestemming_id = (SELECT MIN(toestemming_id) FROM toestemming)"
            )
        )
    engine.dispose()
    na_intrekking = toestemmingen()

    assert main(["sim", "bronnen"]) == 0  # again, nothing new submitted
    assert toestemmingen() == na_intrekking and bronnen() == bron

    assert main(["melding", "indienen", str(later)]) == 0
    assert main(["sim", "bronnen"]) == 0
    derde = toestemmingen()
    assert set(na_intrekking) < set(derde)  # the earlier ones unchanged, the withdrawal standing
    nieuw = {r[1] for r in derde if len(r) > 2} - {r[1] for r in na_intrekking if len(r) > 2}
    assert nieuw and nieuw <= {str(r["melding_id"]) for r in records[15:]}
    assert "toestemmingen" in capsys.readouterr().out

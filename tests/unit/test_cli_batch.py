"""`nazorg batch`: reading the file, the ordinary intake, progress, summary and exit codes.

These tests are about the command's own wiring. The batch runner is replaced by
a test double (:class:`FakeRunBatch`) that does what the runner's contract says
about the CLI (count what is in the inbox, call ``bij_start`` and ``bij_chunk``,
return a :class:`BatchSamenvatting`); whether the batch itself checks and
publishes correctly is tested with the runner, not here.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import nazorg.batch
from nazorg.batch.resultaat import BatchSamenvatting, ChunkResultaat
from nazorg.cli import main
from nazorg_dev.sim.meldingen import meldingen, ongeldige_meldingen

pytestmark = pytest.mark.unit

KOLOMMEN = [
    "melding_id",
    "bsn",
    "gemeente_code",
    "inrichting",
    "datum_binnenkomst",
    "verwachte_einddatum",
    "reclassering_betrokken",
]


@pytest.fixture
def pipeline_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from nazorg.store import dispose_engines
    from nazorg.wiring import reset

    db = tmp_path / "nazorg.db"
    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_DB", f"sqlite:///{db}")
    dispose_engines()
    reset()
    assert main(["db", "upgrade"]) == 0
    yield db
    dispose_engines()
    reset()


class FakeRunBatch:
    """Test double for ``nazorg.batch.run_batch``: the inbox's new meldingen in chunks."""

    def __init__(self, *, mislukt: int = 0, fout: BaseException | None = None) -> None:
        self.mislukt = mislukt
        self.fout = fout
        self.aanroepen: list[dict[str, Any]] = []

    def __call__(
        self,
        rt: Any,
        *,
        chunk_grootte: int | None = None,
        peildatum: date | None = None,
        bij_start: Callable[[int, int], None] | None = None,
        bij_chunk: Callable[[ChunkResultaat], None] | None = None,
    ) -> BatchSamenvatting:
        self.aanroepen.append({"chunk_grootte": chunk_grootte, "peildatum": peildatum})
        rows = rt.store.query("inbox_status_counts")
        nieuw = sum(int(r["aantal"]) for r in rows if r["status"] == "ontvangen")
        grootte = chunk_grootte or 100
        chunks = [min(grootte, nieuw - start) for start in range(0, nieuw, grootte)]
        assert bij_start is not None and bij_chunk is not None
        bij_start(len(chunks), nieuw)
        samenvatting = BatchSamenvatting(batch_id="b-nep")
        for nummer, aantal in enumerate(chunks, start=1):
            if self.fout is not None:
                raise self.fout
            mislukt = min(self.mislukt, aantal) if nummer == 1 else 0
            resultaat = ChunkResultaat(
                chunk_id=f"b-nep-{nummer:04d}",
                meldingen=aantal,
                gepubliceerd=aantal - mislukt,
                gequarantaineerd=0,
                mislukt=mislukt,
                uitkomsten={"id_bewijs": {"ja": aantal - mislukt}},
            )
            bij_chunk(resultaat)
            samenvatting.voeg_toe(resultaat)
        return samenvatting


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeRunBatch:
    double = FakeRunBatch()
    monkeypatch.setattr(nazorg.batch, "run_batch", double, raising=False)
    return double


def write_csv(path: Path, records: list[dict[str, Any]]) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, KOLOMMEN, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(records)
    path.write_text(out.getvalue())
    return path


def write_parquet(path: Path, records: list[dict[str, Any]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({k: pa.array([r.get(k) for r in records], pa.string()) for k in KOLOMMEN}), path)
    return path


def no_bsn(text: str, records: list[dict[str, Any]]) -> None:
    for record in records:
        assert record["bsn"] not in text
        assert record["melding_id"] not in text


def test_csv_file_is_submitted_then_batched_with_progress_and_summary(
    pipeline_db: Path, fake: FakeRunBatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    goed = list(meldingen(5))
    fout = ongeldige_meldingen()[:2]  # elfproef, gemeente
    path = write_csv(tmp_path / "meldingen_999000019.csv", [*goed, *fout])
    assert main(["batch", "--meldingen", str(path), "--chunk-grootte", "2", "--peildatum", "2026-11-01"]) == 0
    out, err = capsys.readouterr()
    assert fake.aanroepen == [{"chunk_grootte": 2, "peildatum": date(2026, 11, 1)}]
    assert re.search(r"inzending [0-9a-f]{32}: 7 record\(s\), 5 opgeslagen, 0 al aanwezig, 2 geweigerd", err)
    assert "batch: 5 meldingen in 3 chunks" in err and "batch: 3/3 chunks, 5/5 meldingen" in err
    assert "\r" not in err  # not a terminal: plain lines
    assert re.search(r"^id_bewijs +5 +0 +0 +0$", out, re.M)
    assert re.search(r"^meldingen +5$", out, re.M)
    assert re.search(r"^gequarantaineerd +2 \(waarvan 2 bij intake\)$", out, re.M)
    assert re.search(r"^chunks +3$", out, re.M)
    no_bsn(out + err, [*goed, *fout])
    assert "999000019" not in out + err  # nor the file name

    assert main(["quarantaine", "lijst", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["reden_code"] for r in rows) == ["bsn_elfproef", "gemeente_onbekend"]
    assert all(re.fullmatch(r"inzending:[0-9a-f]{32}:[78]", r["herkomst"]) for r in rows)


def test_parquet_and_json_summary_for_the_benchmarks(
    pipeline_db: Path, fake: FakeRunBatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = list(meldingen(4))
    path = write_parquet(tmp_path / "in.parquet", [*records, {**records[0], "melding_id": "EDM-ANDERS"}])
    assert main(["batch", "--meldingen", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    d = json.loads(out)  # stdout is only the JSON
    assert d["meldingen"] == 5 and d["chunks"] == 1 and d["mislukt"] == 0
    assert d["intake"]["records"] == 5 and d["intake"]["opgeslagen"] == 5
    assert d["uitkomsten"] == {"id_bewijs": {"ja": 5, "nee": 0, "onbekend": 0, "niet_uitgevoerd": 0}}
    assert d["seconden"] >= 0 and isinstance(d["meldingen_per_seconde"], float)


def test_jsonl_and_format_by_flag(
    pipeline_db: Path, fake: FakeRunBatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "export.txt"
    path.write_text("".join(json.dumps(r) + "\n" for r in meldingen(3)) + "niet-json\n")
    assert main(["batch", "--meldingen", str(path)]) == 2  # .txt: which format?
    assert "--formaat" in capsys.readouterr().err
    assert main(["batch", "--meldingen", str(path), "--formaat", "json", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["meldingen"], d["geweigerd_bij_intake"]) == (3, 1)


def test_without_a_file_the_batch_takes_what_is_in_the_inbox(
    pipeline_db: Path, fake: FakeRunBatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in meldingen(3)))
    assert main(["melding", "indienen", str(path)]) == 0
    capsys.readouterr()
    assert main(["batch"]) == 0
    out, err = capsys.readouterr()
    assert re.search(r"^meldingen +3$", out, re.M) and "ingelezen" not in out and "inzending" not in err
    assert fake.aanroepen == [{"chunk_grootte": None, "peildatum": None}]


def test_a_failed_chunk_exits_1_and_quarantine_alone_does_not(
    pipeline_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(nazorg.batch, "run_batch", FakeRunBatch(mislukt=1), raising=False)
    path = write_csv(tmp_path / "in.csv", [*meldingen(2), *ongeldige_meldingen()])
    assert main(["batch", "--meldingen", str(path)]) == 1
    out, err = capsys.readouterr()
    assert re.search(r"^mislukt +1$", out, re.M) and ", 1 mislukt" in err


def test_a_crash_in_the_batch_is_exit_1_with_its_type_only(
    pipeline_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    records = list(meldingen(2))
    fout = RuntimeError(f"INSERT ... parameters: {records[0]['bsn']}")  # as a driver error would
    monkeypatch.setattr(nazorg.batch, "run_batch", FakeRunBatch(fout=fout), raising=False)
    path = write_csv(tmp_path / "in.csv", records)
    assert main(["batch", "--meldingen", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "nazorg batch: batch afgebroken (RuntimeError)" in err
    no_bsn(out + err, records)


def test_a_crash_while_reading_in_is_exit_1_with_its_type_only(
    pipeline_db: Path,
    fake: FakeRunBatch,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import nazorg.inbox

    records = list(meldingen(2))

    def crashing_dien_in(*args: object, **kwargs: object) -> None:
        raise ValueError(f"UNIQUE constraint failed; parameters: {records[1]['bsn']}")

    monkeypatch.setattr(nazorg.inbox, "dien_in", crashing_dien_in)
    path = write_csv(tmp_path / "in.csv", records)
    assert main(["batch", "--meldingen", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "nazorg batch: inlezen afgebroken (ValueError)" in err
    no_bsn(out + err, records)
    assert fake.aanroepen == []


def test_a_configuration_error_in_the_batch_is_exit_2(
    pipeline_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from nazorg.settings import SettingsError

    fout = SettingsError("NAZORG_PSEUDONIEM_SLEUTEL ontbreekt")
    monkeypatch.setattr(nazorg.batch, "run_batch", FakeRunBatch(fout=fout), raising=False)
    path = pipeline_db.parent / "in.csv"
    write_csv(path, list(meldingen(1)))
    assert main(["batch", "--meldingen", str(path)]) == 2
    assert "nazorg: NAZORG_PSEUDONIEM_SLEUTEL ontbreekt" in capsys.readouterr().err


def test_unreadable_or_refused_files_exit_2_without_running_or_naming_them(
    pipeline_db: Path,
    fake: FakeRunBatch,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from nazorg import intake

    missing = tmp_path / "weg_999000019.csv"
    assert main(["batch", "--meldingen", str(missing)]) == 2
    assert "bestand niet gevonden" in capsys.readouterr().err
    garbage = tmp_path / "kapot_999000019.parquet"
    garbage.write_bytes(b"PAR1 dit is geen parquet")
    assert main(["batch", "--meldingen", str(garbage)]) == 2
    assert "bestand geweigerd (geen_parquet" in capsys.readouterr().err
    monkeypatch.setattr(intake, "MAX_FILE_BYTES", 100)
    groot = write_csv(tmp_path / "groot.csv", list(meldingen(3)))
    assert main(["batch", "--meldingen", str(groot)]) == 2
    out, err = capsys.readouterr()
    assert "bestand_te_groot" in err and "999000019" not in out + err
    assert fake.aanroepen == []  # the batch never started
    assert main(["quarantaine", "lijst", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["reden_code"] for r in rows) == ["bestand_te_groot", "geen_parquet"]


def test_usage_and_missing_connection_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["batch", "--chunk-grootte", "0"], ["batch", "--peildatum", "gisteren"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
    capsys.readouterr()
    from nazorg.wiring import reset

    monkeypatch.delenv("AIRFLOW_CONN_NAZORG_DB", raising=False)
    reset()
    assert main(["batch"]) == 2
    assert capsys.readouterr().err.startswith("nazorg: connection 'nazorg_db' is not configured")

"""Progress (stderr) and the final summary (stdout) of `nazorg batch`, from tiny hand-made counts."""

from __future__ import annotations

import io

import pytest

from nazorg.batch.overzicht import IntakeTelling, als_dict, als_tekst
from nazorg.batch.resultaat import BatchSamenvatting, ChunkResultaat
from nazorg.batch.voortgang import Voortgang

pytestmark = pytest.mark.unit


class Klok:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def chunk(n: int, meldingen: int, mislukt: int = 0) -> ChunkResultaat:
    return ChunkResultaat(
        chunk_id=f"b-test-{n:04d}",
        meldingen=meldingen,
        gepubliceerd=meldingen - mislukt,
        gequarantaineerd=0,
        mislukt=mislukt,
        uitkomsten={"id_bewijs": {"ja": meldingen}},
        seconden=1.0,
    )


def test_terminal_bar_is_one_line_redrawn_with_rate_and_eta() -> None:
    out, klok = io.StringIO(), Klok()
    v = Voortgang(out, terminal=True, klok=klok)
    v.bij_start(4, 400)
    klok.t += 10
    v.bij_chunk(chunk(1, 100))
    klok.t += 10
    v.bij_chunk(chunk(2, 100, mislukt=3))
    v.klaar()
    text = out.getvalue()
    assert "\n" not in text[:-1] and text.endswith("\n")  # one line, ended once
    frames = text.rstrip("\n").split("\r")[1:]
    assert len(frames) == 3  # start, two chunks
    assert frames[1].startswith("[######..................] 1/4 chunks, 100/400 meldingen, 10.0 meldingen/s")
    assert frames[1].rstrip().endswith("nog 0:30")
    assert frames[2].startswith("[############............] 2/4 chunks, 200/400 meldingen, 10.0 meldingen/s")
    assert "nog 0:20, 3 mislukt" in frames[2]
    assert all(len(f) >= len(frames[0]) for f in frames[1:])  # a shorter frame is padded over the last
    assert "b-test" not in text


def test_without_a_terminal_plain_lines_at_most_every_few_seconds() -> None:
    out, klok = io.StringIO(), Klok()
    v = Voortgang(out, terminal=False, klok=klok, interval=5.0)
    v.bij_start(5, 50)
    for n in range(1, 6):
        klok.t += 2
        v.bij_chunk(chunk(n, 10))
    v.klaar()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0] == "batch: 50 meldingen in 5 chunks"
    # chunk 1 (first), chunk 4 (6 s after it), chunk 5 (the last)
    assert [line.split(",")[0] for line in lines[1:]] == [
        "batch: 1/5 chunks",
        "batch: 4/5 chunks",
        "batch: 5/5 chunks",
    ]
    assert lines[-1] == "batch: 5/5 chunks, 50/50 meldingen, 5.0 meldingen/s, nog 0:00"


def test_nothing_to_do_and_terminal_detection() -> None:
    out = io.StringIO()
    v = Voortgang(out)  # a StringIO is not a terminal
    assert v.terminal is False
    v.bij_start(0, 0)
    v.klaar()
    assert out.getvalue() == "batch: niets te verwerken\n"


def samenvatting() -> BatchSamenvatting:
    s = BatchSamenvatting(batch_id="b-test")
    s.voeg_toe(
        ChunkResultaat(
            "b-test-0001",
            meldingen=3,
            gepubliceerd=2,
            gequarantaineerd=1,
            mislukt=0,
            uitkomsten={"schulden": {"ja": 1, "nee": 1}, "id_bewijs": {"onbekend": 2}},
        )
    )
    s.voeg_toe(
        ChunkResultaat(
            "b-test-0002",
            meldingen=2,
            gepubliceerd=1,
            gequarantaineerd=0,
            mislukt=1,
            uitkomsten={"schulden": {"niet_uitgevoerd": 1}},
        )
    )
    s.seconden = 99.0
    return s


def test_summary_table_per_check_then_totals() -> None:
    intake = IntakeTelling(records=7, opgeslagen=4, al_aanwezig=1, geweigerd=2, seconden=0.25)
    text = als_tekst(samenvatting(), intake, seconden=2.0)
    assert text.splitlines() == [
        "ingelezen: 7 record(s): 4 opgeslagen, 1 al aanwezig, 2 geweigerd (quarantaine) in 0.2 s",
        "",
        "check          ja     nee  onbekend  niet_uitgevoerd",
        "id_bewijs       0       0         2                0",
        "schulden        1       1         0                1",
        "",
        "meldingen         5",
        "gepubliceerd      3",
        "gequarantaineerd  3 (waarvan 2 bij intake)",
        "mislukt           1",
        "chunks            2",
        "seconden          2.00",
        "meldingen/s       2.5",
    ]


def test_summary_without_intake_uses_the_batch_seconds_and_says_when_nothing_ran() -> None:
    text = als_tekst(BatchSamenvatting(batch_id="b-leeg"))
    assert "(geen uitkomsten in deze batch)" in text
    assert "meldingen/s       0.0" in text and "ingelezen" not in text
    d = als_dict(samenvatting())
    assert d["seconden"] == 99.0 and d["meldingen_per_seconde"] == 0.1
    assert d["gequarantaineerd"] == d["gequarantaineerd_in_batch"] == 1 and d["intake"] is None


def test_summary_as_json_counts_only() -> None:
    intake = IntakeTelling(records=7, opgeslagen=4, al_aanwezig=1, geweigerd=2, seconden=0.25)
    d = als_dict(samenvatting(), intake, seconden=2.0)
    assert d == {
        "batch_id": "b-test",
        "uitkomsten": {
            "id_bewijs": {"ja": 0, "nee": 0, "onbekend": 2, "niet_uitgevoerd": 0},
            "schulden": {"ja": 1, "nee": 1, "onbekend": 0, "niet_uitgevoerd": 1},
        },
        "meldingen": 5,
        "gepubliceerd": 3,
        "gequarantaineerd": 3,
        "gequarantaineerd_in_batch": 1,
        "geweigerd_bij_intake": 2,
        "mislukt": 1,
        "chunks": 2,
        "seconden": 2.0,
        "meldingen_per_seconde": 2.5,
        "intake": {"records": 7, "opgeslagen": 4, "al_aanwezig": 1, "geweigerd": 2, "seconden": 0.25},
    }

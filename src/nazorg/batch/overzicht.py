"""The final summary of ``nazorg batch``: a table for people, a dict for the benchmarks.

Pure functions of counts (a :class:`~nazorg.batch.resultaat.BatchSamenvatting` and
what the intake did), so they are tested without a database and print nothing
that names a person: per check how many ja/nee/onbekend/niet_uitgevoerd, and
melding totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nazorg.batch.resultaat import UITKOMST_KOLOMMEN, BatchSamenvatting

if TYPE_CHECKING:
    from nazorg.inbox import Inzendingsresultaat


@dataclass(frozen=True, slots=True)
class IntakeTelling:
    """What reading the batch file did, in counts (``nazorg batch --meldingen``)."""

    records: int = 0
    opgeslagen: int = 0
    al_aanwezig: int = 0
    geweigerd: int = 0  # quarantined at intake, including a changed melding under a known id
    seconden: float = 0.0

    @classmethod
    def van(cls, resultaat: Inzendingsresultaat, seconden: float = 0.0) -> IntakeTelling:
        tel = resultaat.aantallen
        return cls(
            records=resultaat.totaal,
            opgeslagen=tel["opgeslagen"],
            al_aanwezig=tel["al_aanwezig"],
            geweigerd=tel["quarantaine"] + tel["conflict"],
            seconden=seconden,
        )


def _seconden(samenvatting: BatchSamenvatting, seconden: float | None) -> float:
    return samenvatting.seconden if seconden is None else seconden


def als_dict(
    samenvatting: BatchSamenvatting, intake: IntakeTelling | None = None, seconden: float | None = None
) -> dict[str, Any]:
    """Machine-readable summary (``--json``); ``seconden`` is the batch's wall time (default: its own)."""
    wall = _seconden(samenvatting, seconden)
    geweigerd = intake.geweigerd if intake else 0
    return {
        "batch_id": samenvatting.batch_id,
        "uitkomsten": {
            check_id: {kolom: int(rij.get(kolom, 0)) for kolom in UITKOMST_KOLOMMEN}
            for check_id, rij in sorted(samenvatting.uitkomsten.items())
        },
        "meldingen": samenvatting.meldingen,
        "gepubliceerd": samenvatting.gepubliceerd,
        "gequarantaineerd": samenvatting.gequarantaineerd + geweigerd,
        "gequarantaineerd_in_batch": samenvatting.gequarantaineerd,
        "geweigerd_bij_intake": geweigerd,
        "mislukt": samenvatting.mislukt,
        "chunks": samenvatting.chunks,
        "seconden": round(wall, 3),
        "meldingen_per_seconde": round(samenvatting.meldingen / wall, 1) if wall > 0 else 0.0,
        "intake": None
        if intake is None
        else {
            "records": intake.records,
            "opgeslagen": intake.opgeslagen,
            "al_aanwezig": intake.al_aanwezig,
            "geweigerd": intake.geweigerd,
            "seconden": round(intake.seconden, 3),
        },
    }


def als_tekst(
    samenvatting: BatchSamenvatting, intake: IntakeTelling | None = None, seconden: float | None = None
) -> str:
    """The table: one row per check with its outcome counts, then the totals."""
    d = als_dict(samenvatting, intake, seconden)
    regels: list[str] = []
    if d["intake"] is not None:
        i = d["intake"]
        regels.append(
            f"ingelezen: {i['records']} record(s): {i['opgeslagen']} opgeslagen, {i['al_aanwezig']} al "
            f"aanwezig, {i['geweigerd']} geweigerd (quarantaine) in {i['seconden']:.1f} s"
        )
        regels.append("")
    uitkomsten: dict[str, dict[str, int]] = d["uitkomsten"]
    breedte = max([len("check"), *(len(c) for c in uitkomsten)])
    kolommen = [max(len(k), 6) for k in UITKOMST_KOLOMMEN]
    kop = "  ".join(k.rjust(b) for k, b in zip(UITKOMST_KOLOMMEN, kolommen, strict=True))
    regels.append(f"{'check'.ljust(breedte)}  {kop}")
    if not uitkomsten:
        regels.append("(geen uitkomsten in deze batch)")
    for check_id, rij in uitkomsten.items():
        cellen = "  ".join(str(rij[k]).rjust(b) for k, b in zip(UITKOMST_KOLOMMEN, kolommen, strict=True))
        regels.append(f"{check_id.ljust(breedte)}  {cellen}")
    totalen = [
        ("meldingen", str(d["meldingen"])),
        ("gepubliceerd", str(d["gepubliceerd"])),
        (
            "gequarantaineerd",
            f"{d['gequarantaineerd']}"
            + (f" (waarvan {d['geweigerd_bij_intake']} bij intake)" if d["intake"] is not None else ""),
        ),
        ("mislukt", str(d["mislukt"])),
        ("chunks", str(d["chunks"])),
        ("seconden", f"{d['seconden']:.2f}"),
        ("meldingen/s", f"{d['meldingen_per_seconde']:.1f}"),
    ]
    regels.append("")
    naam_breedte = max(len(n) for n, _ in totalen)
    regels.extend(f"{naam.ljust(naam_breedte)}  {waarde}" for naam, waarde in totalen)
    return "\n".join(regels) + "\n"

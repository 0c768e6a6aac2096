"""Batch input files (JSON Lines, CSV, Parquet) as records for the ordinary intake.

Why this module only *decodes*: a melding in a batch file must meet exactly the
rules a melding handed to ``nazorg melding indienen`` meets, and be quarantined
the same way. So each reader yields ``(herkomst, record)`` pairs in the shape of
:func:`nazorg.intake.decode` (a dict for a row, or :class:`~nazorg.intake.Geweigerd`
with a reason code), and the caller passes them through
:func:`nazorg.intake.beoordeel_alle` and :func:`nazorg.inbox.dien_in` like any
submission. Nothing here validates a field; nothing here raises on any input.

Values are never coerced beyond what a JSON submission carries: every melding
field is a JSON string (dates as ``YYYY-MM-DD``, ``reclassering_betrokken`` as
the text ``ja``/``nee``; there is no boolean or number field), so a CSV cell is
passed on as the string it is, and a Parquet date becomes its ISO text. A
column the schema does not know is always part of the record (counted, never
named, by ``beoordeel``), so such a file is refused row by row, never silently
narrowed.

Size caps: the file as read is capped at :data:`nazorg.intake.MAX_FILE_BYTES`
(64 MiB) for every format: 50,000 meldingen are about 10 MiB of JSON Lines,
3 MiB of CSV and well under 1 MiB of Parquet, so the ordinary cap leaves room
for about 300,000. Parquet is compressed, so its footer is checked too before a
row is read: at most :data:`MAX_PARQUET_RIJEN` rows and at most
``MAX_FILE_BYTES`` of uncompressed data; the rows are then read in record
batches of :data:`PARQUET_BATCH_RIJEN` (bounded memory).
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from nazorg import intake
from nazorg.intake import SCHEMA_VELDEN, Geweigerd, herkomst_voor

FORMATEN = ("json", "csv", "parquet")
EXTENSIES = {
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
MAX_PARQUET_RIJEN = 1_000_000
"""Rows a Parquet footer may declare: twenty times the 50,000 a national backfill needs.

Null cells compress to nearly nothing, so the byte cap alone does not bound the rows.
"""
PARQUET_BATCH_RIJEN = 4096

REDEN_CODES_INVOER = frozenset(
    {
        "geen_csv",  # a CSV line that is not CSV (an unterminated or stray quote)
        "kolom_aantal_ongeldig",  # a CSV row with more or fewer cells than the header
        "kop_ongeldig",  # the CSV header is not CSV, not UTF-8, too long, or names no melding field
        "geen_parquet",  # not a readable Parquet file (one row for the file), or a row it could not read
    }
)
"""Reason codes of the batch readers, on top of :data:`nazorg.intake.REDEN_CODES_DECODE`."""

_WS = b" \t\r\n"
_EPOCH = date(1970, 1, 1).toordinal()
_MS_PER_DAG = 86_400_000
_ONGELDIGE_DATUM = "ongeldige-datum"  # not a date: ``beoordeel`` refuses it as datum_ongeldig


class _NietGelezen:
    """Stands in for a column that is not read (a type no melding field has).

    Pydantic refuses it as the wrong type for every field (``type_ongeldig``,
    ``datum_ongeldig`` or ``waarde_ongeldig``), and under a name the schema does
    not know it is counted as an unknown field, exactly like a JSON value would be.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "<niet gelezen>"


NIET_GELEZEN = _NietGelezen()


def formaat_voor(path: Path, opgegeven: str | None = None) -> str | None:
    """The format named with ``--formaat``, else the one the extension implies; None when unknown."""
    if opgegeven is not None:
        return opgegeven if opgegeven in FORMATEN else None
    return EXTENSIES.get(path.suffix.lower())


def lees(data: bytes, formaat: str, inzending: str) -> Iterator[tuple[str, object]]:
    """Records of one batch file, each with its herkomst, lazily; never raises on any ``data``."""
    if formaat == "json":
        return intake.decode(data, inzending)
    if formaat == "csv":
        return lees_csv(data, inzending)
    if formaat == "parquet":
        return lees_parquet(data, inzending)
    raise ValueError(f"onbekend formaat (kies uit {', '.join(FORMATEN)})")


# --- CSV --------------------------------------------------------------------------------------


def _cellen(line: bytes, delimiter: str) -> list[str] | str:
    """The cells of one physical line, or the reason code why it has none."""
    if len(line) > intake.MAX_RAW_RECORD_BYTES:
        return "te_groot"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return "codering_ongeldig"
    try:
        rows = list(csv.reader([text], delimiter=delimiter, strict=True))
    except csv.Error:
        return "geen_csv"
    return rows[0] if len(rows) == 1 else "geen_csv"


def lees_csv(data: bytes, inzending: str) -> Iterator[tuple[str, object]]:
    """Rows of a CSV file with a header of melding field names, one record per physical line.

    The first non-blank line is the header; its names are the fields (exact,
    case-sensitive, as JSON keys are). The delimiter is ``;`` when the header
    has a ``;`` and no ``,`` (Excel's Dutch export), else ``,``. No melding field
    may hold a line break, so a quoted cell never spans lines: a broken quote
    spoils only its own line. An empty cell of a known field is absent; an
    unknown column is always part of the record, so every row of such a file is
    refused (``onbekend_veld``). A header naming a column twice refuses every
    row (``dubbele_sleutel``); a header naming no melding field at all (a file
    without a header) is refused as a record itself and so is every row
    (``kop_ongeldig``). herkomst is ``inzending:<id>:<line number>``.
    """
    bestand = herkomst_voor(inzending)
    if len(data) > intake.MAX_FILE_BYTES:
        yield bestand, Geweigerd("bestand_te_groot")
        return
    raw = intake._as_utf8(data)  # the same BOM rules as a JSON submission
    kop: list[str] | None = None
    kop_fout: str | None = None
    delimiter = ","
    number, pos = 0, 0
    while pos <= len(raw):
        newline = raw.find(b"\n", pos)
        line_end = len(raw) if newline < 0 else newline
        number += 1
        line = raw[pos:line_end]
        pos = line_end + 1
        if not line.strip(_WS):
            continue
        line = line.removesuffix(b"\r")
        herkomst = f"{bestand}:{number}"
        if kop is None and kop_fout is None:
            delimiter = ";" if b";" in line and b"," not in line else ","
            cellen = _cellen(line, delimiter)
            if isinstance(cellen, str):
                kop_fout = "kop_ongeldig"
            elif not SCHEMA_VELDEN.intersection(cellen):
                kop_fout = "kop_ongeldig"
                yield herkomst, Geweigerd(kop_fout)  # probably a melding itself: never dropped
            elif len(set(cellen)) != len(cellen):
                kop_fout = "dubbele_sleutel"
            else:
                kop = cellen
            continue
        if kop_fout is not None:
            yield herkomst, Geweigerd(kop_fout)
            continue
        assert kop is not None
        cellen = _cellen(line, delimiter)
        if isinstance(cellen, str):
            yield herkomst, Geweigerd(cellen)
        elif len(cellen) != len(kop):
            yield herkomst, Geweigerd("kolom_aantal_ongeldig")
        else:
            paren = zip(kop, cellen, strict=True)
            yield herkomst, {naam: cel for naam, cel in paren if cel or naam not in SCHEMA_VELDEN}


# --- Parquet ----------------------------------------------------------------------------------


def _soort(kolomtype: Any) -> str | None:
    """How a column of this Arrow type is read, or None: a type no melding field has (not read)."""
    import pyarrow as pa

    if pa.types.is_dictionary(kolomtype):
        kolomtype = kolomtype.value_type
    if pa.types.is_string(kolomtype) or pa.types.is_large_string(kolomtype):
        return "tekst"
    if pa.types.is_date32(kolomtype):
        return "date32"
    if pa.types.is_date64(kolomtype):
        return "date64"
    if pa.types.is_boolean(kolomtype) or pa.types.is_null(kolomtype):
        return "as_is"  # no field is a boolean: a true/false is refused as in JSON
    return None


def _iso(dagen: int | None) -> str | None:
    if dagen is None:
        return None
    try:
        return date.fromordinal(_EPOCH + dagen).isoformat()
    except (ValueError, OverflowError):
        return _ONGELDIGE_DATUM


def _waarden(kolom: Any, soort: str) -> list[object]:
    """One column of a record batch as the values a JSON submission would carry."""
    import pyarrow as pa

    if soort == "date32":
        return [_iso(d) for d in kolom.cast(pa.int32()).to_pylist()]
    if soort == "date64":
        return [None if ms is None else _iso(ms // _MS_PER_DAG) for ms in kolom.cast(pa.int64()).to_pylist()]
    if soort == "tekst" and pa.types.is_dictionary(kolom.type):
        kolom = kolom.dictionary_decode()
    return list(kolom.to_pylist())


def _te_groot(record: dict[str, object]) -> bool:
    return sum(len(v) for v in record.values() if isinstance(v, str)) > intake.MAX_RAW_RECORD_BYTES


def lees_parquet(data: bytes, inzending: str) -> Iterator[tuple[str, object]]:
    """Rows of a Parquet file, one record per row, read in record batches.

    Only flat columns of string, date, boolean or null type are read, and only
    under a melding field name; any other column is not read at all and refuses
    every row (wrong type, or an unknown field). A null cell is absent. A file
    that is not Parquet gets one ``geen_parquet`` row for the file; a file over
    the caps (bytes, declared rows, declared uncompressed bytes) one
    ``bestand_te_groot`` row; rows that cannot be read after the footer was
    accepted are each refused with ``geen_parquet``. herkomst is
    ``inzending:<id>:<row number>`` (1-based).
    """
    bestand = herkomst_voor(inzending)
    if len(data) > intake.MAX_FILE_BYTES:
        yield bestand, Geweigerd("bestand_te_groot")
        return
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        bron = pq.ParquetFile(pa.BufferReader(data))
        meta = bron.metadata
        rijen = int(meta.num_rows)
        groepen = [meta.row_group(i) for i in range(meta.num_row_groups)]
        ongecomprimeerd = sum(int(g.total_byte_size) for g in groepen)
        kloppend = rijen == sum(int(g.num_rows) for g in groepen) and rijen >= 0
        velden = [(str(f.name), f.type) for f in bron.schema_arrow]
    except Exception:  # pyarrow raises many kinds on hostile input; none may escape
        yield bestand, Geweigerd("geen_parquet")
        return
    if not kloppend:
        yield bestand, Geweigerd("geen_parquet")
        return
    if rijen > MAX_PARQUET_RIJEN or ongecomprimeerd > intake.MAX_FILE_BYTES:
        yield bestand, Geweigerd("bestand_te_groot")
        return
    namen = [naam for naam, _ in velden]
    if len(set(namen)) != len(namen):
        for nummer in range(1, rijen + 1):
            yield f"{bestand}:{nummer}", Geweigerd("dubbele_sleutel")
        return
    soorten = {naam: _soort(kolomtype) for naam, kolomtype in velden}
    gelezen = {naam: soort for naam, soort in soorten.items() if soort is not None and naam in SCHEMA_VELDEN}
    vast: dict[str, object] = {naam: NIET_GELEZEN for naam in namen if naam not in gelezen}
    nummer = 0
    if gelezen:
        # a corrupt page ends the reading; the rows not read are refused below, never dropped
        with contextlib.suppress(Exception):
            for batch in bron.iter_batches(
                batch_size=PARQUET_BATCH_RIJEN, columns=list(gelezen), use_threads=False
            ):
                kolommen = {naam: _waarden(batch.column(naam), soort) for naam, soort in gelezen.items()}
                for index in range(batch.num_rows):
                    if nummer >= rijen:  # more rows than the footer declared: not read further
                        break
                    nummer += 1
                    record = dict(vast)
                    for naam, waarden in kolommen.items():
                        if (waarde := waarden[index]) is not None:
                            record[naam] = waarde
                    herkomst = f"{bestand}:{nummer}"
                    yield herkomst, (Geweigerd("te_groot") if _te_groot(record) else record)
                if nummer >= rijen:
                    break
    else:
        for nummer in range(1, rijen + 1):
            yield f"{bestand}:{nummer}", dict(vast)
    for rest in range(nummer + 1, rijen + 1):
        yield f"{bestand}:{rest}", Geweigerd("geen_parquet")

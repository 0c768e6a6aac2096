"""The batch's file output: each published chunk as Parquet, partitioned by gemeente and date.

Why Parquet and not one JSON file per melding: a backfill publishes tens of
thousands of documents; a gemeente's systems read one columnar file per chunk
per day far more easily (and faster) than 50,000 small files, and the batch
path does not write the per-melding JSON outbox files at all.

Layout (Hive-style partitions, readable with ``pyarrow.dataset`` or DuckDB)::

    <NAZORG_PARQUET_DIR, default var/parquet>/gemeente_code=XXXX/datum=YYYY-MM-DD/<chunk_id>.parquet

``datum`` is the peildatum the checks were evaluated for (today for a normal
run), so re-running a chunk for the same day overwrites its own file: a chunk
re-run never leaves two copies. Files are written to a temporary name in the
same directory and renamed into place (a reader never sees half a file), with
mode 0600 in directories of mode 0700: the file holds outcomes about people.

Long format, one row per check of each published melding (13 per melding),
exactly the rows of its published basisdocument plus where it belongs:

=========================  ===================  ===========================================
column                     type                 meaning
=========================  ===================  ===========================================
melding_id                 string, not null     the sender's melding id
gemeente_code              string, not null     4 digits; also the partition
besluit                    string, not null     the gemeente's besluit id the checks ran under
register_versie            string, not null     verwerkingsregister version
aandachtsgebied            string, not null     DPAN aandachtsgebied of the check
check_id                   string, not null     register check id
uitkomst                   string, not null     ja / nee / onbekend / niet_uitgevoerd
dossierverantwoordelijke   string, null         the team to contact (a team of the besluit)
reden                      string, null         reason code (onbekend, niet_uitgevoerd, ...)
versie                     int32, not null      outbox version: 1, +1 per changed re-publication
gepubliceerd_op            timestamp[ms, UTC]   when the chunk was published
=========================  ===================  ===========================================

:data:`KOLOMMEN` lists these; ``SCHEMA`` (built on first use, pyarrow is imported
lazily) is the :class:`pyarrow.Schema` every file carries.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from nazorg.bestanden import maak_map

#: (name, pyarrow type, nullable) of every column, in file order; see the module docstring
KOLOMMEN: tuple[tuple[str, str, bool], ...] = (
    ("melding_id", "string", False),
    ("gemeente_code", "string", False),
    ("besluit", "string", False),
    ("register_versie", "string", False),
    ("aandachtsgebied", "string", False),
    ("check_id", "string", False),
    ("uitkomst", "string", False),
    ("dossierverantwoordelijke", "string", True),
    ("reden", "string", True),
    ("versie", "int32", False),
    ("gepubliceerd_op", "timestamp[ms, tz=UTC]", False),
)
NAMEN = tuple(naam for naam, _, _ in KOLOMMEN)

_GEMEENTE = re.compile(r"^[0-9]{4}$")
_CHUNK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@cache
def schema() -> Any:
    """The pyarrow schema of :data:`KOLOMMEN` (imports pyarrow)."""
    import pyarrow as pa

    typen = {
        "string": pa.string(),
        "int32": pa.int32(),
        "timestamp[ms, tz=UTC]": pa.timestamp("ms", tz="UTC"),
    }
    return pa.schema([pa.field(naam, typen[soort], nullable=leeg) for naam, soort, leeg in KOLOMMEN])


def __getattr__(name: str) -> Any:
    """``SCHEMA`` as a module constant without importing pyarrow when the module is imported."""
    if name == "SCHEMA":
        return schema()
    raise AttributeError(name)


def pad(root: Path, gemeente_code: str, datum: date, chunk_id: str) -> Path:
    """Where a chunk's file for one gemeente and date goes; refuses ids that are not ours."""
    if not _GEMEENTE.match(gemeente_code):
        raise ValueError("gemeente_code: vier cijfers")
    if not _CHUNK_ID.match(chunk_id):
        raise ValueError("chunk_id: ongeldig formaat")
    return root / f"gemeente_code={gemeente_code}" / f"datum={datum.isoformat()}" / f"{chunk_id}.parquet"


def schrijf_tijdelijk(
    root: Path, chunk_id: str, datum: date, rijen: Sequence[Mapping[str, Any]]
) -> dict[Path, Path]:
    """Write the rows, one file per gemeente, under temporary names; final path -> temporary path.

    The caller renames them into place (:func:`plaats`) once the chunk's
    transaction has committed, or removes them (:func:`ruim_op`) when it has
    not: no file is ever visible for a chunk that was not published.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    per_gemeente: dict[str, list[Mapping[str, Any]]] = {}
    for rij in rijen:
        per_gemeente.setdefault(str(rij["gemeente_code"]), []).append(rij)
    klaar: dict[Path, Path] = {}
    try:
        for gemeente_code, deel in sorted(per_gemeente.items()):
            doel = pad(root, gemeente_code, datum, chunk_id)
            maak_map(doel.parent)
            tijdelijk = doel.with_name(f".{doel.name}.{secrets.token_hex(6)}.tmp")
            kolommen = {naam: [r[naam] for r in deel] for naam in NAMEN}
            kolommen["gepubliceerd_op"] = _tijden(kolommen["gepubliceerd_op"])
            tabel = pa.Table.from_pydict(kolommen, schema=schema())
            fd = os.open(tijdelijk, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                pq.write_table(tabel, handle, compression="zstd")
            klaar[doel] = tijdelijk
    except BaseException:
        ruim_op(klaar)
        raise
    return klaar


def _tijden(waarden: Sequence[Any]) -> list[Any]:
    """ISO strings (as the pipeline DB stores them) as datetimes; a chunk has one or a few distinct ones."""
    geparst: dict[str, datetime] = {}
    uit = []
    for waarde in waarden:
        if isinstance(waarde, str):
            if waarde not in geparst:
                geparst[waarde] = datetime.fromisoformat(waarde)
            uit.append(geparst[waarde])
        else:
            uit.append(waarde)
    return uit


def plaats(bestanden: Mapping[Path, Path]) -> list[Path]:
    """Rename each temporary file onto its final path (atomic; overwrites a re-run's earlier file)."""
    for doel, tijdelijk in bestanden.items():
        os.replace(tijdelijk, doel)
    return list(bestanden)


def wezen(doel: Path) -> list[Path]:
    """Temporary files left next to ``doel`` by a writer that died before :func:`plaats` or
    :func:`ruim_op` (a killed worker): they hold outcomes and are never moved into place."""
    return sorted(doel.parent.glob(f".{doel.name}.*.tmp"))


def ruim_op(bestanden: Mapping[Path, Path]) -> None:
    """Remove temporary files of a chunk that was not published."""
    for tijdelijk in bestanden.values():
        with contextlib.suppress(FileNotFoundError):
            tijdelijk.unlink()

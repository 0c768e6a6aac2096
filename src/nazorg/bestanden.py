"""Owner-only files, never half written: one place for the rules every output file follows.

Why: the Parquet rows, the basisdocument pages, the aggregate report and the
notification files all hold something about people (outcomes, or counts of them
per gemeente). Each is created owner-only (directories 0700, files 0600, whatever
the umask) under a temporary name in its target directory and renamed into place,
so a reader never sees a partial file and a crash leaves at most a ``.tmp`` file
that the next write or clean-up removes. Before this module four writers each
carried their own copy of these lines.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def maak_map(directory: Path) -> None:
    """Create ``directory`` and whatever of its parents is missing, each with mode 0700.

    ``mkdir(parents=True)`` would create the parents with the umask's mode; every
    directory an output goes to is owner-only, also ``var/`` of a fresh checkout.
    """
    missing = []
    current = directory
    while not current.exists() and current.parent != current:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


def tijdelijke_naam(doel: Path) -> Path:
    """A fresh hidden name next to ``doel`` (same directory, so the rename is atomic)."""
    return doel.with_name(f".{doel.name}.{secrets.token_hex(6)}.tmp")


@contextlib.contextmanager
def atomair(doel: Path) -> Iterator[BinaryIO]:
    """Write ``doel`` through a 0600 temporary file that replaces it only when the block succeeds."""
    maak_map(doel.parent)
    tijdelijk = tijdelijke_naam(doel)
    fd = os.open(tijdelijk, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask cannot widen it, but an inherited ACL could: be explicit
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tijdelijk, doel)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tijdelijk.unlink()
        raise


def schrijf_atomair(doel: Path, inhoud: bytes) -> Path:
    """Write ``inhoud`` to ``doel`` (0600, atomically; an existing file is replaced); returns ``doel``."""
    with atomair(doel) as handle:
        handle.write(inhoud)
    return doel

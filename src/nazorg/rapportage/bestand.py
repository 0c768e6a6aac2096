"""Writing a report: owner-only directories (0700) and files (0600), never half a file.

The report holds no BSN and no melding id, but it does hold counts of outcomes
per gemeente, so it gets the same file rules as the batch's Parquet output
(:mod:`nazorg.batch.parquet`): created under a temporary name in the target
directory and renamed into place, so a reader never sees a partial report.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def maak_map(directory: Path) -> None:
    """Create ``directory`` and whatever of its parents is missing, each with mode 0700."""
    missing = []
    current = directory
    while not current.exists() and current.parent != current:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


def schrijf(pad: Path, inhoud: bytes) -> Path:
    """Write ``inhoud`` to ``pad`` atomically with mode 0600 (an existing file is replaced)."""
    maak_map(pad.parent)
    tijdelijk = pad.with_name(f".{pad.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tijdelijk, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(inhoud)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tijdelijk, pad)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tijdelijk.unlink()
        raise
    return pad

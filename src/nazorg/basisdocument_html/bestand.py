"""The page written next to a published JSON file: same name, ``.html``, mode 0600, atomic.

Why next to the JSON: whoever reads the outbox directory (the gemeente's
coördinator) gets the readable page with the document, named after the same
run key. It holds outcomes about a person, so it is owner-only like the
batch's Parquet files, and written to a temporary name and renamed into place
(a reader never sees half a page; a re-publication replaces it). Whatever
removes the JSON file removes the page too (:func:`pagina_van`, used by
:func:`nazorg.bewaartermijn.verwijder_bestanden`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def pagina_van(json_bestand: Path) -> Path:
    """The HTML page that belongs to a published JSON file."""
    return json_bestand.with_suffix(".html")


def schrijf_pagina(json_bestand: Path, html: str) -> Path:
    """Write ``html`` as the page of ``json_bestand`` (0600, atomically); returns its path."""
    doel = pagina_van(json_bestand)
    tijdelijk = doel.with_name(f".{doel.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tijdelijk, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(html)
        os.chmod(tijdelijk, 0o600)  # the umask cannot widen it, but be explicit
        os.replace(tijdelijk, doel)
    except BaseException:
        tijdelijk.unlink(missing_ok=True)
        raise
    return doel

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

from pathlib import Path

from nazorg.bestanden import schrijf_atomair


def pagina_van(json_bestand: Path) -> Path:
    """The HTML page that belongs to a published JSON file."""
    return json_bestand.with_suffix(".html")


def schrijf_pagina(json_bestand: Path, html: str) -> Path:
    """Write ``html`` as the page of ``json_bestand`` (0600, atomically); returns its path."""
    return schrijf_atomair(pagina_van(json_bestand), html.encode("utf-8"))

"""The one way the library renders HTML: autoescaped Jinja2 templates shipped inside a package.

Why one place: every page (basisdocument, werklijst, operator's view, monthly
report) holds data about people or counts of them, so each must escape
everything, fail on a missing variable instead of rendering an empty field, and
carry its stylesheet inline under a Content-Security-Policy hash (no external
asset may load). Four modules each had their own copy of these settings.
Jinja2 is imported on first use, never when a DAG file is parsed.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def omgeving(package: str) -> Environment:
    """The Jinja2 environment for ``package``'s ``templates/`` folder (autoescape, strict)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def stijl(package: str, bestand: str) -> tuple[str, str]:
    """A stylesheet from ``package``'s ``templates/`` and its base64 SHA-256 for ``style-src 'sha256-…'``."""
    from importlib import resources

    css = resources.files(package).joinpath(f"templates/{bestand}").read_text(encoding="utf-8")
    return css, base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")

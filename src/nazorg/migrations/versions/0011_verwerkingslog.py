"""Revision 0011: the processing log links to the register by URI and to the processors it called.

Why:

- ``processing_activity_id`` becomes a URI (Logboek Dataverwerkingen:
  ``dpl.core.processing_activity_id`` is a URI into the register of processing
  activities): ``<register_uri><check_id>/v<versie>`` instead of
  ``<check_id>@v<versie>``. Rows already stored in ``verwerkingslog`` and
  ``uitkomst`` are rewritten to the same form, with ``NAZORG_REGISTER_URI`` as
  configured when ``nazorg db upgrade`` runs (set it first), so one query finds a
  register version's records old and new. The reference keeps its meaning (the
  same entry, the same version); only its spelling changes. Downgrading writes
  ``<check_id>@v<versie>`` back, whatever the base was.
- ``verwerkingslog`` gets the standard's ``foreign_operation`` for checks that
  called another processor (Haal Centraal): ``foreign_trace_id`` and
  ``foreign_span_id`` (the trace and action at the called processor, the span
  from its W3C ``traceresponse`` when it sends one), ``foreign_entity`` (a URI of
  the called processor) and ``request_span_id`` (the span id of our request, as
  sent in its ``traceparent``: the called processor's log names our call by it).
  All NULL for checks that call no other processor.

Frozen snapshot: nothing of the code's register or enums is imported; only the
configured base URI is read, because it is the deployment's, not the code's.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None

TABELLEN = ("verwerkingslog", "uitkomst")
NIEUWE_KOLOMMEN = ("foreign_trace_id", "foreign_span_id", "foreign_entity", "request_span_id")
#: the default of NAZORG_REGISTER_URI when this revision was written
STANDAARD_BASIS = "https://register.nazorg.example/verwerkingsactiviteiten/"
_OUD = re.compile(r"^(?P<id>[a-z][a-z0-9_]{1,39})@v(?P<versie>[1-9][0-9]*)$")
_NIEUW = re.compile(r"^.*?(?P<id>[a-z][a-z0-9_]{1,39})/v(?P<versie>[1-9][0-9]*)$")


def _basis() -> str:
    """The configured register base URI (a bad value fails the upgrade with the setting's name)."""
    try:
        from nazorg.settings import settings
    except ImportError:  # pragma: no cover - the package always ships it
        return STANDAARD_BASIS
    return settings().register_uri


def _herschrijf(omzetten: dict[str, str]) -> None:
    bind = op.get_bind()
    for tabel in TABELLEN:
        for oud, nieuw in omzetten.items():
            bind.execute(
                sa.text(
                    f"UPDATE {tabel} SET processing_activity_id = :nieuw WHERE processing_activity_id = :oud"
                ),
                {"oud": oud, "nieuw": nieuw},
            )


def _waarden() -> set[str]:
    bind = op.get_bind()
    waarden: set[str] = set()
    for tabel in TABELLEN:
        rows = bind.execute(sa.text(f"SELECT DISTINCT processing_activity_id FROM {tabel}"))
        waarden.update(str(r[0]) for r in rows if r[0] is not None)
    return waarden


def upgrade() -> None:
    with op.batch_alter_table("verwerkingslog") as batch:
        for kolom in NIEUWE_KOLOMMEN:
            batch.add_column(sa.Column(kolom, sa.Text(), nullable=True))
    basis = _basis()
    omzetten = {}
    for waarde in _waarden():
        match = _OUD.fullmatch(waarde)
        if match is not None:
            omzetten[waarde] = f"{basis}{match['id']}/v{match['versie']}"
    _herschrijf(omzetten)


def downgrade() -> None:
    """Drops the foreign-operation columns (what they linked is lost) and writes ``<id>@v<n>`` back."""
    omzetten = {}
    for waarde in _waarden():
        match = _NIEUW.fullmatch(waarde)
        if match is not None and not _OUD.fullmatch(waarde):
            omzetten[waarde] = f"{match['id']}@v{match['versie']}"
    _herschrijf(omzetten)
    with op.batch_alter_table("verwerkingslog") as batch:
        for kolom in reversed(NIEUWE_KOLOMMEN):
            batch.drop_column(kolom)

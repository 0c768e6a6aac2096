"""The page of one published melding, read from the pipeline DB: what a caller with a store needs.

:func:`nazorg.basisdocument_html.render_html` is pure; this is the one place that
reads what it renders (``outbox_get`` for the published document and its
publication time, ``uitkomst_tijden`` for when each check was decided and
retried), so ``nazorg basisdocument toon --format html`` and a web page that
shows one document (the werklijst) render the same bytes for the same state.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from nazorg.basisdocument_html import context_uit_uitkomsten, render_html

if TYPE_CHECKING:
    from nazorg.register import Policy
    from nazorg.store import Store


def pagina(store: Store, policy: Policy, melding_id: str, *, rol: str) -> str | None:
    """The published basisdocument of ``melding_id`` as ``rol`` sees it; None when none is published.

    Raises ``ValueError`` for an unknown role and
    :class:`nazorg.register.RegisterError` when the policy has no besluit for
    the document's gemeente.
    """
    rows = store.query("outbox_get", {"melding_id": melding_id})
    if not rows:
        return None
    row = rows[0]
    gepubliceerd_op = row["gepubliceerd_op"]
    context = context_uit_uitkomsten(
        store.query("uitkomst_tijden", {"melding_id": melding_id}),
        None if gepubliceerd_op is None else str(gepubliceerd_op),
    )
    return render_html(
        json.loads(row["inhoud"]),
        rol=rol,
        register=policy.register,
        besluit=policy.besluit(str(row["gemeente_code"])),
        context=context,
    )

"""A published document that passes the closed JSON Schema, for tests that stage one by hand.

Publication validates every document against the schema
(:mod:`nazorg.basisdocument_html.schema`), so a stand-in like ``"{}"`` is refused
before the step under test is reached.
"""

from __future__ import annotations

import json

from nazorg import basisdocument as bd
from nazorg.register import default_policy


def geldig_document(melding_id: str, gemeente_code: str = "9901") -> str:
    """``outbox.inhoud`` of a schema-valid document without outcomes (the checks are not the point)."""
    policy = default_policy()
    besluit = policy.besluit(gemeente_code)
    kop = bd.kop({"inrichting": "PI Teststad", "datum_binnenkomst": "2026-11-02"}, besluit.gemeente_naam)
    document = bd.stel_op(
        melding_id, gemeente_code, besluit.besluit.id, policy.register.register_versie, [], kop=kop
    )
    return json.dumps(document, ensure_ascii=False)

"""Test-only stand-ins for ``nazorg.batch.chunk.verwerk`` (written by another helper; not on the real path).

They keep the contract the runner relies on: process the given meldingen that the
chunk still holds, set their final state and end the chunk's claim, in one
transaction (``eenvoudig``) or through the per-melding steps (``via_pipeline``,
for the end-to-end run through Airflow before the real chunk code exists). They
are installed by putting a module in ``sys.modules["nazorg.batch.chunk"]``.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import text

from nazorg.batch.resultaat import ChunkResultaat
from nazorg.store import now


class Eenvoudig:
    """Publishes every new melding (an outbox row, no document) and fills in every due retry with ja."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str], dict[str, set[str]]]] = []
        self.fail_with: BaseException | None = None

    def verwerk(
        self,
        rt: Any,
        chunk_id: str,
        meldingen: Sequence[Mapping[str, Any]],
        herhalingen: Mapping[str, Collection[str]],
        *,
        peildatum: date | None = None,
    ) -> ChunkResultaat:
        self.calls.append(
            (chunk_id, [m["melding_id"] for m in meldingen], {k: set(v) for k, v in herhalingen.items()})
        )
        claim = f"chunk:{chunk_id}"
        with rt.store.transaction() as conn:
            for m in meldingen:
                if m["soort"] == "nieuw":
                    conn.execute(
                        text(
                            "INSERT INTO outbox (melding_id, gemeente_code, inhoud, bestand, gepubliceerd_op)"
                            " VALUES (:m, :g, '{}', NULL, :nu)"
                        ),
                        {"m": m["melding_id"], "g": m["gemeente_code"], "nu": now()},
                    )
                else:
                    for check_id in herhalingen[m["melding_id"]]:
                        conn.execute(
                            text(
                                "UPDATE uitkomst SET uitkomst = 'ja', reden = NULL, pogingen = pogingen + 1,"
                                " volgende_poging = NULL WHERE melding_id = :m AND check_id = :c"
                            ),
                            {"m": m["melding_id"], "c": check_id},
                        )
                    conn.execute(
                        text("UPDATE outbox SET versie = versie + 1 WHERE melding_id = :m"),
                        {"m": m["melding_id"]},
                    )
                if self.fail_with is not None:  # fails halfway: the transaction rolls back
                    raise self.fail_with
                conn.execute(
                    text(
                        "UPDATE inbox SET status = 'gepubliceerd', claim = NULL, claim_tot = NULL"
                        " WHERE melding_id = :m AND claim = :c"
                    ),
                    {"m": m["melding_id"], "c": claim},
                )
        return ChunkResultaat(chunk_id, len(meldingen), len(meldingen), 0, 0)


def via_pipeline(
    rt: Any,
    chunk_id: str,
    meldingen: Sequence[Mapping[str, Any]],
    herhalingen: Mapping[str, Collection[str]],
    *,
    peildatum: date | None = None,
) -> ChunkResultaat:
    """Each new melding through the per-melding steps after ontvang (the chunk holds the claim)."""
    from nazorg import pipeline
    from nazorg.models import Aandachtsgebied
    from nazorg.processing_log import trace_id_for

    gepubliceerd = mislukt = 0
    for m in meldingen:
        if m["soort"] != "nieuw":
            continue
        key = m["run_key"]
        try:
            pipeline.plan(rt, key, peildatum)
            for gebied in Aandachtsgebied:
                pipeline.voer_checks_uit(rt, key, gebied, trace_id_for(f"{chunk_id}-{key}"), peildatum)
            pipeline.stel_basisdocument_op(rt, key)
            pipeline.bewaak(rt, key)
            pipeline.publiceer(rt, key)
            gepubliceerd += 1
        except Exception:
            mislukt += 1
    with rt.store.transaction() as conn:
        conn.execute(
            text("UPDATE inbox SET claim = NULL, claim_tot = NULL WHERE claim = :c"),
            {"c": f"chunk:{chunk_id}"},
        )
    return ChunkResultaat(chunk_id, len(meldingen), gepubliceerd, 0, mislukt)


def installeer(verwerk: Any) -> types.ModuleType:
    """Make ``verwerk`` the ``nazorg.batch.chunk.verwerk`` the runner imports."""
    module = types.ModuleType("nazorg.batch.chunk")
    module.verwerk = verwerk  # type: ignore[attr-defined]
    sys.modules["nazorg.batch.chunk"] = module
    return module

"""Both paths record where a check's contact comes from, the same way, and publish it.

The simulated CJIB system names ``Team Schuldhulpverlening Ruimhaven`` for its
debtors in Ruimhaven: the default team of ``schuld_cjib`` in that besluit. That
is the case the page could not tell by deriving from the besluit (it said
"standaardteam"); the recorded value says the source named it. Runs on SQLite
(``pipeline``) and PostgreSQL (``integration``) like the other batch tests.
"""

from __future__ import annotations

import json

from nazorg.basisdocument_html import afgeleide_herkomst_zonder_vastlegging, contact_herkomst
from nazorg.register import default_policy
from nazorg_dev.sim.meldingen import meldingen
from tests.batch.conftest import BatchWorld

KOLOMMEN = "melding_id, check_id, uitkomst, dossierverantwoordelijke, contact_herkomst, reden"


def test_both_paths_record_and_publish_the_same_contact_herkomst(
    batch_world: BatchWorld, per_melding_world: BatchWorld
) -> None:
    records = list(meldingen(40, offset=200))
    ids = batch_world.submit(records)
    per_melding_world.submit(records)
    for melding_id in ids:
        per_melding_world.run_per_melding(melding_id)
    assert batch_world.verwerk(ids).gepubliceerd == 40

    sql = f"SELECT {KOLOMMEN} FROM uitkomst ORDER BY melding_id, check_id"
    batch, per_melding = batch_world.rows(sql), per_melding_world.rows(sql)
    assert batch == per_melding
    for row in batch:  # a recorded origin exactly where there is a contact
        assert (row["contact_herkomst"] is None) == (row["dossierverantwoordelijke"] is None), row["check_id"]
        assert row["contact_herkomst"] in {"bron", "standaard", None}
        if row["uitkomst"] == "niet_uitgevoerd":
            assert row["contact_herkomst"] is None

    policy = default_policy()
    besluit = policy.besluit("9901")
    standaard = besluit.standaard_contact("schuld_cjib")
    gemeente = {r["melding_id"]: r["gemeente_code"] for r in records}
    cjib = [r for r in batch if r["check_id"] == "schuld_cjib" and gemeente[r["melding_id"]] == "9901"]
    genoemd = [r for r in cjib if r["uitkomst"] == "ja"]
    niet_genoemd = [r for r in cjib if r["uitkomst"] == "nee"]
    assert genoemd and niet_genoemd  # the fixture holds both cases
    # the source named the default team itself: bron, and the contact is that default team
    assert {(r["dossierverantwoordelijke"], r["contact_herkomst"]) for r in genoemd} == {(standaard, "bron")}
    # no row in the source, no name: the besluit's default team
    assert {(r["dossierverantwoordelijke"], r["contact_herkomst"]) for r in niet_genoemd} == {
        (standaard, "standaard")
    }

    # the published documents carry it per check, and the page shows the recorded value
    uitgaand = batch_world.outbox()
    for r in genoemd:
        document = json.loads(uitgaand[r["melding_id"]]["inhoud"])
        check = next(
            c for g in document["aandachtsgebieden"] for c in g["checks"] if c["check_id"] == "schuld_cjib"
        )
        assert check["contact_herkomst"] == "bron"
        assert contact_herkomst(check, besluit) == "bron"
        assert afgeleide_herkomst_zonder_vastlegging(check, besluit) == "standaard"  # what derivation said
    for melding_id in ids:
        assert uitgaand[melding_id]["inhoud"] == per_melding_world.outbox()[melding_id]["inhoud"]

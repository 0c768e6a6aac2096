"""The batch publishes only documents that pass the closed JSON Schema, as the per-melding path does.

The guard's frame holds the checks; a field outside them (a header field too
many, free text in the header) is the schema's to stop. Runs on SQLite
(``pipeline``) and PostgreSQL (``integration``) like the other chunk tests.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from nazorg import basisdocument
from nazorg_dev.sim.meldingen import meldingen
from tests.batch.conftest import BatchWorld


def _bederf(monkeypatch: pytest.MonkeyPatch, melding_id: str, veld: str, waarde: Any) -> None:
    echt = basisdocument.stel_op

    def stel_op(*args: Any, **kwargs: Any) -> dict[str, Any]:
        document = echt(*args, **kwargs)
        if document["melding_id"] == melding_id:
            document[veld] = waarde
        return document

    monkeypatch.setattr(basisdocument, "stel_op", stel_op)


@pytest.mark.parametrize(
    ("veld", "waarde", "fout"),
    [
        ("geboortedatum", "1990-01-01", ("$", "additionalProperties")),
        ("inrichting", "PI Vught 999990019", ("inrichting", "not")),
    ],
)
def test_a_document_outside_the_schema_is_held_back_and_the_others_published(
    batch_world: BatchWorld,
    monkeypatch: pytest.MonkeyPatch,
    veld: str,
    waarde: str,
    fout: tuple[str, str],
) -> None:
    records = list(meldingen(6, offset=940))
    ids = batch_world.submit(records)
    slecht = ids[2]
    _bederf(monkeypatch, slecht, veld, waarde)

    resultaat = batch_world.verwerk(ids)

    assert (resultaat.gepubliceerd, resultaat.gequarantaineerd) == (5, 1)
    assert set(batch_world.outbox()) == set(ids) - {slecht}
    assert batch_world.scalar("SELECT status FROM inbox WHERE melding_id = :m", m=slecht) == "geblokkeerd"
    assert batch_world.scalar("SELECT COUNT(*) FROM basisdocument WHERE melding_id = :m", m=slecht) == 0
    rijen = batch_world.rows("SELECT * FROM quarantaine WHERE melding_id = :m", m=slecht)
    assert {(q["fase"], q["reden_code"], q["veld"], q["expectation"]) for q in rijen} == {
        ("bewaak", "schema_ongeldig", *fout)
    }
    # the published ones carry the header, and pass the schema with it
    for melding_id, row in batch_world.outbox().items():
        document = json.loads(row["inhoud"])
        record = next(r for r in records if r["melding_id"] == melding_id)
        assert document["inrichting"] == record["inrichting"]
        assert document["gemeente_naam"]
    assert not (batch_world.tmp / "outbox").exists()  # the batch writes no per-melding files


def test_a_withdrawal_rewrites_the_page_next_to_the_json_without_the_answer(batch_world: BatchWorld) -> None:
    """The page is a copy of the answers too: a consent withdrawal must not leave them in it."""
    from pathlib import Path

    from nazorg import toestemming
    from tests.batch.test_toestemming import GATED, _records, _sim_id

    (record,) = _records(batch_world, consent=True, aantal=1, offset=960)
    (melding_id,) = batch_world.submit([record])
    batch_world.run_per_melding(melding_id)
    bestand = Path(batch_world.outbox()[melding_id]["bestand"])
    pagina = bestand.with_suffix(".html")
    voor = pagina.read_text(encoding="utf-8")
    rt = batch_world.rt
    toestemming.intrekken(rt, melding_id, _sim_id(melding_id), ingetrokken_door="casemanager")
    document = json.loads(batch_world.outbox()[melding_id]["inhoud"])
    na = pagina.read_text(encoding="utf-8")
    assert na != voor
    gestopt = [c for g in document["aandachtsgebieden"] for c in g["checks"] if c["check_id"] in GATED]
    assert gestopt and all(c["reden"] == "geen_toestemming" for c in gestopt)

    def rij(pagina_tekst: str, check_id: str) -> str:
        vraag = rt.policy.register.entry(check_id).vraag
        deel = pagina_tekst[pagina_tekst.index(f"<td>{vraag}</td>") :]
        return deel[: deel.index("</tr>")]

    # the gated checks the besluit runs were answered with consent (others: niet_in_besluit)
    beantwoord = [c["check_id"] for c in gestopt if "Niet uitgevoerd" not in rij(voor, c["check_id"])]
    assert beantwoord
    for check_id in beantwoord:
        assert "Niet uitgevoerd" in rij(na, check_id), check_id
        assert "geen toestemming" in rij(na, check_id), check_id

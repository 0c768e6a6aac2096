from __future__ import annotations

import pytest

from nazorg import basisdocument as bd
from nazorg.basisdocument_html import render_html
from nazorg.register import default_policy

pytestmark = pytest.mark.unit

KOP = bd.kop({"inrichting": "PI Vught", "datum_binnenkomst": "2026-11-02"}, "Ruimhaven")


def rows() -> list[dict[str, object]]:
    return [
        {
            "aandachtsgebied": "schulden",
            "check_id": "schuld_cjib",
            "uitkomst": "ja",
            "dossierverantwoordelijke": "Team Schulden",
            "contact_herkomst": "bron",
            "reden": None,
            "melding_id": "EDM-1",
        },
        {
            "aandachtsgebied": "zorg",
            "check_id": "kinderen",
            "uitkomst": "onbekend",
            "dossierverantwoordelijke": "Team Jeugd",
            "contact_herkomst": "standaard",
            "reden": "bron_timeout",
            "melding_id": "EDM-1",
        },
        {
            "aandachtsgebied": "zorg",
            "check_id": "ggz_risicoprofiel",
            "uitkomst": "niet_uitgevoerd",
            "dossierverantwoordelijke": None,
            "contact_herkomst": None,
            "reden": "niet_in_besluit",
            "melding_id": "EDM-1",
        },
    ]


def test_document_groups_all_six_aandachtsgebieden_and_keeps_only_the_answer() -> None:
    document = bd.stel_op("EDM-1", "9901", "RH-2026-017", "2026.11.0", rows(), kop=KOP)
    assert [g["aandachtsgebied"] for g in document["aandachtsgebieden"]] == [
        "veiligheidshuis_reclassering",
        "id_bewijs",
        "inkomen_werk_dagbesteding",
        "schulden",
        "huisvesting_onderdak",
        "zorg",
    ]
    zorg = document["aandachtsgebieden"][-1]["checks"]
    assert [c["check_id"] for c in zorg] == ["ggz_risicoprofiel", "kinderen"]
    assert all(set(c) == set(bd.CHECK_KEYS) for g in document["aandachtsgebieden"] for c in g["checks"])


def test_unknown_aandachtsgebied_is_kept_for_the_guard_to_see() -> None:
    rogue = [
        *rows(),
        {
            "aandachtsgebied": "krediet",
            "check_id": "creditscore",
            "uitkomst": "ja",
            "dossierverantwoordelijke": "X",
            "reden": None,
        },
    ]
    document = bd.stel_op("EDM-1", "9901", "b", "v", rogue, kop=KOP)
    flat = bd.rows(document)
    assert {
        "melding_id": "EDM-1",
        "aandachtsgebied": "krediet",
        "check_id": "creditscore",
        "uitkomst": "ja",
        "dossierverantwoordelijke": "X",
        "contact_herkomst": None,
        "reden": None,
    } in flat
    assert len(flat) == 4


def test_rows_expose_any_extra_key_as_a_column() -> None:
    document = bd.stel_op("EDM-1", "9901", "b", "v", rows(), kop=KOP)
    document["aandachtsgebieden"][3]["checks"][0]["bedrag"] = 1234
    assert any("bedrag" in r for r in bd.rows(document))


def test_html_is_dutch_and_escaped() -> None:
    document = bd.stel_op("EDM-1", "9901", "RH-2026-017", "2026.11.0", rows(), kop=KOP)
    document["aandachtsgebieden"][3]["checks"][0]["dossierverantwoordelijke"] = "<script>"
    policy = default_policy()
    page = render_html(document, rol="coordinator", register=policy.register, besluit=policy.besluit("9901"))
    assert "Is er een schuld bij het CJIB?" in page
    assert "Niet uitgevoerd" in page and "Onbekend" in page
    assert "niet opgenomen in het gemeentelijk besluit" in page
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_every_reason_code_has_a_dutch_label() -> None:
    from nazorg.models import Reden

    assert set(bd.REDEN_NL) == {r.value for r in Reden}

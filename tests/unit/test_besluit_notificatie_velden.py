"""The besluit's notification fields: a regievoerder and team mailboxes, both from the closed team list."""

from __future__ import annotations

from typing import Any

import pytest

from nazorg.register import Besluit, default_policy

pytestmark = pytest.mark.unit


def _besluit(**extra: Any) -> dict[str, Any]:
    return {
        "gemeente_code": "9999",
        "gemeente_naam": "Proefdorp",
        "oin": "00000001999999000000",
        "besluit": {"id": "PD-1", "titel": "Proefbesluit nazorg", "vastgesteld_op": "2026-01-01"},
        "teams": [{"id": "regie", "naam": "Regieteam Proefdorp", "email": "regie@proefdorp.example"}],
        "checks": {"kinderen": {"dossierverantwoordelijke": "regie"}},
        **extra,
    }


def test_a_regievoerder_must_be_a_team_of_the_list() -> None:
    assert Besluit.model_validate(_besluit(regievoerder="regie")).regievoerder == "regie"
    with pytest.raises(ValueError, match="regievoerder: anders is geen team-id"):
        Besluit.model_validate(_besluit(regievoerder="anders"))


def test_without_a_regievoerder_nobody_is_named() -> None:
    assert Besluit.model_validate(_besluit()).regievoerder is None


@pytest.mark.parametrize(
    "email",
    ["geen-adres", "Regie <regie@proefdorp.example>", "regie@proefdorp", "a b@proefdorp.example", ""],
)
def test_a_team_mailbox_is_a_plain_address(email: str) -> None:
    data = _besluit()
    data["teams"][0]["email"] = email
    with pytest.raises(ValueError, match="email"):
        Besluit.model_validate(data)


def test_ruimhaven_names_its_topx_regie_team_and_every_team_has_a_mailbox() -> None:
    policy = default_policy()
    ruimhaven = policy.besluit("9901")
    assert ruimhaven.regievoerder == "topx-regie"
    assert policy.besluit("9902").regievoerder is None
    assert all(t.email for b in policy.besluiten.values() for t in b.teams)

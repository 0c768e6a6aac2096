"""Retention's pure rules: durations, start events, fallbacks, what is due; BSN input; the policy file."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from nazorg.airflow import conf_guard
from nazorg.bewaartermijn import (
    BewaarStart,
    Categorie,
    Instellingen,
    Klok,
    Termijn,
    einde,
    laatste_dag_verlopen,
    plan,
    startdatum,
    termijn_van,
)
from nazorg.duur import DuurOngeldig, tel_op
from nazorg.rechten import BsnOngeldig, laad_beleid, lees_bsn
from nazorg.run_key import OngeldigeConf
from nazorg.settings import SOURCE_ROOT, Settings, SettingsError

pytestmark = pytest.mark.unit

INST = Instellingen(verwerkingslog="P5Y", quarantaine="P1Y", max_detentie="P2Y")


@pytest.mark.parametrize(
    ("start", "duur", "eind"),
    [
        (date(2025, 1, 10), "P1Y", date(2026, 1, 10)),
        (date(2024, 2, 29), "P1Y", date(2025, 2, 28)),  # no 29 February: the month's last day
        (date(2025, 1, 31), "P1M", date(2025, 2, 28)),
        (date(2025, 11, 15), "P3M", date(2026, 2, 15)),
        (date(2025, 1, 1), "P2W", date(2025, 1, 15)),
        (date(2025, 1, 1), "P1Y6M10D", date(2026, 7, 11)),
    ],
)
def test_a_duration_is_added_on_the_calendar(start: date, duur: str, eind: date) -> None:
    assert tel_op(start, duur) == eind


@pytest.mark.parametrize("duur", ["P", "1Y", "PT1H", "P1.5Y", "", "P-1Y"])
def test_anything_but_the_registers_duration_form_is_refused(duur: str) -> None:
    with pytest.raises(DuurOngeldig):
        tel_op(date(2025, 1, 1), duur)


@pytest.mark.parametrize("duur", ["P1Y", "P3M", "P5Y", "P1M", "P30D", "P2W"])
@pytest.mark.parametrize(
    "peildatum", [date(2027, 3, 1), date(2028, 2, 29), date(2027, 12, 31), date(2027, 3, 31)]
)
def test_the_last_due_day_is_exactly_the_last_start_whose_term_has_run(duur: str, peildatum: date) -> None:
    d = laatste_dag_verlopen(peildatum, duur)
    assert tel_op(d, duur) <= peildatum
    assert tel_op(date.fromordinal(d.toordinal() + 1), duur) > peildatum


def _klok(**kw: object) -> Klok:
    base: dict[str, object] = {"melding_id": "M", "gemeente_code": "9901", "ontvangen_op": date(2026, 1, 5)}
    return Klok(**{**base, **kw})  # type: ignore[arg-type]


def test_the_clock_starts_at_receipt_or_at_the_end_of_detention() -> None:
    klok = _klok(datum_binnenkomst=date(2026, 1, 1), verwachte_einddatum=date(2026, 9, 1))
    assert startdatum(klok, BewaarStart.MELDING_ONTVANGEN, "P2Y") == date(2026, 1, 5)
    # no laatstedagsmelding: the expected end date
    assert startdatum(klok, BewaarStart.LAATSTEDAGSMELDING, "P2Y") == date(2026, 9, 1)
    # a laatstedagsmelding wins over the expectation, early or late
    vroeg = _klok(verwachte_einddatum=date(2026, 9, 1), datum_uitstroom=date(2026, 3, 1))
    assert startdatum(vroeg, BewaarStart.LAATSTEDAGSMELDING, "P2Y") == date(2026, 3, 1)
    # neither: datum_binnenkomst plus the longest detention assumed
    zonder = _klok(datum_binnenkomst=date(2026, 1, 1))
    assert startdatum(zonder, BewaarStart.LAATSTEDAGSMELDING, "P2Y") == date(2028, 1, 1)
    # never before receipt (an end date in the melding's past)
    oud = _klok(verwachte_einddatum=date(2020, 1, 1))
    assert startdatum(oud, BewaarStart.LAATSTEDAGSMELDING, "P2Y") == date(2026, 1, 5)
    assert einde(klok, Termijn("P1Y", BewaarStart.LAATSTEDAGSMELDING), "P2Y") == date(2027, 9, 1)


def test_the_start_event_defaults_to_the_laatstedagsmelding_and_an_unknown_one_is_refused() -> None:
    assert termijn_van(SimpleNamespace(bewaartermijn="P1Y")) == Termijn("P1Y", BewaarStart.LAATSTEDAGSMELDING)
    ontvangen = SimpleNamespace(bewaartermijn="P3M", bewaartermijn_start="melding_ontvangen")
    assert termijn_van(ontvangen) == Termijn("P3M", BewaarStart.MELDING_ONTVANGEN)
    with pytest.raises(ValueError, match="detentie_einde"):
        termijn_van(SimpleNamespace(bewaartermijn="P1Y", bewaartermijn_start="detentie_einde"))


TERMIJNEN = {
    "kort": Termijn("P3M", BewaarStart.MELDING_ONTVANGEN),
    "lang": Termijn("P1Y", BewaarStart.LAATSTEDAGSMELDING),
}


def test_plan_deletes_a_check_when_its_term_has_run_and_the_melding_when_all_have() -> None:
    klokken = [
        _klok(melding_id="oud", ontvangen_op=date(2025, 1, 1), datum_uitstroom=date(2025, 6, 1)),
        _klok(melding_id="half", ontvangen_op=date(2027, 1, 1), verwachte_einddatum=date(2027, 12, 1)),
        _klok(melding_id="nieuw", ontvangen_op=date(2027, 5, 1)),
        _klok(
            melding_id="bezet", ontvangen_op=date(2025, 1, 1), datum_uitstroom=date(2025, 6, 1), bezet=True
        ),
    ]
    checks = [(k.melding_id, c) for k in klokken for c in TERMIJNEN]
    p = plan(date(2027, 6, 1), TERMIJNEN, klokken, checks, INST)
    assert set(p.checks) == {("oud", "kort"), ("oud", "lang"), ("half", "kort")}
    assert p.meldingen == ("oud",)
    assert p.gemeente == {"oud": "9901"}
    assert p.grafstenen == ()


def test_the_term_has_run_on_the_day_it_ends_not_the_day_before() -> None:
    klok = _klok(ontvangen_op=date(2025, 1, 1), datum_uitstroom=date(2025, 6, 1))
    checks = [("M", "kort"), ("M", "lang")]
    assert plan(date(2026, 5, 31), TERMIJNEN, [klok], checks, INST).meldingen == ()
    assert plan(date(2026, 6, 1), TERMIJNEN, [klok], checks, INST).meldingen == ("M",)


def test_a_check_the_register_no_longer_knows_waits_for_the_longest_term() -> None:
    klok = _klok(ontvangen_op=date(2025, 1, 1), datum_uitstroom=date(2025, 6, 1))
    checks = [("M", "kort"), ("M", "lang"), ("M", "vervallen")]
    termijnen = {**TERMIJNEN, "lang": Termijn("P2Y", BewaarStart.LAATSTEDAGSMELDING)}
    p = plan(date(2026, 7, 1), termijnen, [klok], checks, INST)
    assert set(p.checks) == {("M", "kort")}
    assert p.meldingen == ()
    p = plan(date(2027, 6, 1), termijnen, [klok], checks, INST)
    assert set(p.checks) == {("M", "kort"), ("M", "lang"), ("M", "vervallen")}


def test_a_tombstone_goes_after_the_processing_logs_term_since_it_was_made() -> None:
    graf = _klok(ontvangen_op=date(2020, 1, 1), grafsteen=True, bijgewerkt_op=date(2026, 6, 1))
    assert plan(date(2031, 5, 31), TERMIJNEN, [graf], [], INST).grafstenen == ()
    assert plan(date(2031, 6, 1), TERMIJNEN, [graf], [], INST).grafstenen == ("M",)
    assert plan(date(2031, 6, 1), TERMIJNEN, [graf], [], INST).meldingen == ()


def test_quarantine_and_log_cutoffs_are_the_first_day_still_kept() -> None:
    p = plan(date(2027, 6, 1), TERMIJNEN, [], [], INST)
    assert p.quarantaine_voor == "2026-06-02"
    assert p.verwerkingslog_voor == "2022-06-02"


def test_retention_settings_are_durations_and_the_dry_run_a_flag() -> None:
    config = Settings.from_env(
        {
            "NAZORG_VERWERKINGSLOG_BEWAARTERMIJN": "P7Y",
            "NAZORG_QUARANTAINE_BEWAARTERMIJN": "P6M",
            "NAZORG_BEWAARTERMIJN_MAX_DETENTIE": "P3Y",
            "NAZORG_BEWAARTERMIJN_DRY_RUN": "true",
            "NAZORG_BEWAARTERMIJN_SCHEDULE": "0 3 * * *",
        }
    )
    assert Instellingen.uit(config) == Instellingen("P7Y", "P6M", "P3Y")
    assert config.bewaartermijn_dry_run is True
    assert config.bewaartermijn_schedule == "0 3 * * *"
    defaults = Settings.from_env({})
    assert (defaults.bewaartermijn_dry_run, defaults.verwerkingslog_bewaartermijn) == (False, "P5Y")
    for name, value in (
        ("NAZORG_VERWERKINGSLOG_BEWAARTERMIJN", "5 jaar"),
        ("NAZORG_BEWAARTERMIJN_DRY_RUN", "ja"),
        ("NAZORG_BEWAARTERMIJN_SCHEDULE", "dagelijks"),
    ):
        with pytest.raises(SettingsError) as exc:
            Settings.from_env({name: value})
        assert exc.value.setting == name and value not in str(exc.value)


@pytest.mark.parametrize("tekst", ["999000007", "999000007\n", "  999000007  \r\n"])
def test_a_bsn_is_read_in_canonical_form(tekst: str) -> None:
    assert lees_bsn(tekst) == "999000007"


@pytest.mark.parametrize(
    "tekst", ["", "99900000", "999000008", "999 000 007", "999000007\n999000019", "9990000O7"]
)
def test_anything_but_one_valid_bsn_is_refused_without_echo(tekst: str) -> None:
    with pytest.raises(BsnOngeldig) as exc:
        lees_bsn(tekst)
    assert not any(part in str(exc.value) for part in tekst.split() if part)


def test_the_erasure_policy_names_every_category_and_a_reason_for_what_it_keeps() -> None:
    beleid = laad_beleid(SOURCE_ROOT / "register")
    assert set(beleid.categorieen) == set(Categorie)
    assert not beleid.verwijdert(Categorie.VERWERKINGSLOG)
    assert beleid.verwijdert(Categorie.UITKOMST) and beleid.verwijdert(Categorie.INBOX_BSN)
    for categorie in Categorie:
        assert beleid.verwijdert(categorie) or len(beleid.reden(categorie)) > 20


def test_an_incomplete_erasure_policy_is_refused(tmp_path: object) -> None:
    from pathlib import Path

    from nazorg.rechten import BeleidOngeldig

    directory = Path(str(tmp_path))
    (directory / "rechten_betrokkene.yaml").write_text(
        "versie: 1\ncategorieen:\n  uitkomst: {bij_verwijderverzoek: bewaren}\n", encoding="utf-8"
    )
    with pytest.raises(BeleidOngeldig, match="bewaren vraagt een reden"):
        laad_beleid(directory)
    (directory / "rechten_betrokkene.yaml").write_text(
        "versie: 1\ncategorieen:\n  uitkomst: {bij_verwijderverzoek: verwijderen}\n", encoding="utf-8"
    )
    with pytest.raises(BeleidOngeldig, match="categorieën ontbreken"):
        laad_beleid(directory)


def test_the_cluster_policy_refuses_a_conf_or_a_foreign_run_id_for_the_retention_dag() -> None:
    run = SimpleNamespace(
        dag_id="bewaartermijn", run_id="scheduled__2026-01-02T03:00:00+00:00", conf={"x": 1}
    )
    with pytest.raises(OngeldigeConf, match="bewaartermijn neemt geen conf"):
        conf_guard.task_instance_mutation_hook(object(), run)
    assert run.conf == {}
    eigen = SimpleNamespace(dag_id="bewaartermijn", run_id="999000007", conf={}, start_date=None)
    with pytest.raises(OngeldigeConf):
        conf_guard.task_instance_mutation_hook(object(), eigen)
    goed = SimpleNamespace(dag_id="bewaartermijn", run_id="scheduled__2026-01-02T03:00:00+00:00", conf={})
    conf_guard.task_instance_mutation_hook(object(), goed)

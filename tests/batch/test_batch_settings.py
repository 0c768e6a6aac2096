"""The batch path's settings: defaults, the checked schedule, and refusals that name the variable only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nazorg.settings import SOURCE_ROOT, Settings, SettingsError

pytestmark = pytest.mark.unit


def test_defaults() -> None:
    config = Settings.from_env({})
    assert config.batch_chunk_grootte == 1000
    assert config.batch_schedule == "@hourly"
    assert config.batch_max_pogingen == 3
    assert config.batch_backoff_s == 300
    assert config.batch_claim_s == 3600
    assert config.parquet_dir == config.project_dir / "var" / "parquet"
    assert Settings.for_project(SOURCE_ROOT).parquet_dir == SOURCE_ROOT / "var" / "parquet"


def test_values_from_the_environment(tmp_path) -> None:
    config = Settings.from_env(
        {
            "NAZORG_BATCH_CHUNK_GROOTTE": "10",
            "NAZORG_BATCH_SCHEDULE": "*/15 * * * *",
            "NAZORG_BATCH_MAX_POGINGEN": "5",
            "NAZORG_BATCH_BACKOFF_S": "1.5",
            "NAZORG_BATCH_CLAIM_S": "60",
            "NAZORG_PARQUET_DIR": str(tmp_path / "pq"),
        }
    )
    assert (config.batch_chunk_grootte, config.batch_schedule, config.batch_max_pogingen) == (
        10,
        "*/15 * * * *",
        5,
    )
    assert (config.batch_backoff_s, config.batch_claim_s, config.parquet_dir) == (1.5, 60, tmp_path / "pq")
    assert Settings.from_env({"NAZORG_BATCH_SCHEDULE": "none"}).batch_schedule is None
    assert Settings.from_env({"NAZORG_BATCH_SCHEDULE": "@daily"}).batch_schedule == "@daily"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NAZORG_BATCH_SCHEDULE", "elk uur"),
        ("NAZORG_BATCH_SCHEDULE", "61 * * * *"),
        ("NAZORG_BATCH_SCHEDULE", "* * * *"),
        ("NAZORG_BATCH_SCHEDULE", "@elke_dag"),
        ("NAZORG_BATCH_SCHEDULE", "999990019 * * * *"),
        ("NAZORG_BATCH_CHUNK_GROOTTE", "0"),
        ("NAZORG_BATCH_CHUNK_GROOTTE", "tien"),
        ("NAZORG_BATCH_MAX_POGINGEN", "-1"),
        ("NAZORG_BATCH_BACKOFF_S", "0"),
        ("NAZORG_BATCH_CLAIM_S", "inf"),
    ],
)
def test_an_invalid_value_is_refused_naming_the_variable_not_the_value(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({name: value})
    assert name in str(info.value)
    assert value not in str(info.value)


def test_volgende_poging_backs_off_exponentially_and_stops() -> None:
    from nazorg.batch.verzamel import volgende_poging

    config = Settings.from_env({"NAZORG_BATCH_BACKOFF_S": "300", "NAZORG_BATCH_MAX_POGINGEN": "4"})
    nu = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)

    def at(seconds: float) -> str:
        return (nu + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")

    assert volgende_poging(1, "onbekend", "bron_onbereikbaar", config, nu) == at(300)
    assert volgende_poging(2, "onbekend", "bron_fout", config, nu) == at(600)
    assert volgende_poging(3, "onbekend", "bron_timeout", config, nu) == at(1200)
    assert volgende_poging(4, "onbekend", "bron_timeout", config, nu) is None  # the fourth was the last
    # only a source that was down is asked again; a definite answer or a record's own signal is not
    for uitkomst, reden in [
        ("ja", None),
        ("nee", None),
        ("onbekend", "bron_ambigu"),
        ("onbekend", "persoon_overleden"),
        ("niet_uitgevoerd", "geen_toestemming"),
        ("ja", "contact_niet_in_besluit"),
    ]:
        assert volgende_poging(1, uitkomst, reden, config, nu) is None, (uitkomst, reden)
    # a check marked due after consent was recorded, whose chunk failed, backs off the same way
    assert volgende_poging(
        1, "niet_uitgevoerd", "geen_toestemming", config, nu, toestemming_later=True
    ) == at(300)
    assert (
        volgende_poging(4, "niet_uitgevoerd", "geen_toestemming", config, nu, toestemming_later=True) is None
    )
    assert (
        volgende_poging(1, "niet_uitgevoerd", "niet_in_besluit", config, nu, toestemming_later=True) is None
    )
    # the stored form compares with nazorg.store.now(): ISO, UTC, milliseconds
    other = datetime(2026, 1, 2, 11, 0, tzinfo=UTC).astimezone(datetime.now().astimezone().tzinfo)
    assert volgende_poging(1, "onbekend", "bron_fout", config, other) == (
        datetime(2026, 1, 2, 11, 5, tzinfo=UTC).isoformat(timespec="milliseconds")
    )


def test_volgende_poging_takes_the_stored_text_form_and_the_process_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The chunk code passes the timestamp it stores (text) and may leave the settings to the process."""
    from nazorg.batch.verzamel import volgende_poging
    from nazorg.settings import reload_settings

    monkeypatch.setenv("NAZORG_BATCH_BACKOFF_S", "60")
    monkeypatch.setenv("NAZORG_BATCH_MAX_POGINGEN", "2")
    reload_settings()
    assert volgende_poging(1, "onbekend", "bron_fout", None, "2026-01-02T10:00:00.000+00:00") == (
        "2026-01-02T10:01:00.000+00:00"
    )
    assert volgende_poging(2, "onbekend", "bron_fout", None, "2026-01-02T10:00:00.000+00:00") is None

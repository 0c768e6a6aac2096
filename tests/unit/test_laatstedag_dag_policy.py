"""The laatstedagsmelding DAG: no conf, Airflow's own run ids, a validated schedule and notifier."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from nazorg.airflow import conf_guard
from nazorg.run_key import OngeldigeConf
from nazorg.settings import Settings, SettingsError

pytestmark = pytest.mark.unit
BSN = "999990019"


def _run(conf: Any, run_id: str, start_date: object = None) -> Any:
    return SimpleNamespace(dag_id="laatstedagsmelding", run_id=run_id, conf=conf, start_date=start_date)


def test_a_scheduled_or_manual_run_without_conf_is_accepted() -> None:
    for run_id in ("scheduled__2026-11-30T05:15:00+00:00", "manual__2026-11-30T05:03:12.123456+00:00"):
        run = _run({}, run_id)
        conf_guard.task_instance_mutation_hook(object(), run)
        assert run.conf == {}


@pytest.mark.parametrize(
    ("conf", "run_id"),
    [({"bsn": BSN}, "manual__2026-11-30T05:00:00+00:00"), ({}, f"manual__{BSN}"), ({}, "laatste-dag")],
)
def test_a_conf_or_a_chosen_run_id_is_refused_without_echo(conf: dict, run_id: str) -> None:
    run = _run(dict(conf), run_id)
    with pytest.raises(OngeldigeConf, match="laatstedagsmelding") as info:
        conf_guard.task_instance_mutation_hook(object(), run)
    assert run.conf == {} and BSN not in str(info.value)
    existing = _run(dict(conf), run_id, start_date="2026-11-30T05:00:00+00:00")
    conf_guard.task_instance_mutation_hook(object(), existing)  # scrubbed, never raised in the scheduler
    assert existing.conf == {}


def test_schedule_and_notifier_settings_are_checked_by_name() -> None:
    from nazorg.airflow.timeouts import laatstedag_instellingen

    default = Settings.from_env({})
    assert laatstedag_instellingen(default).schedule == "*/15 * * * *"
    assert (default.notifier, default.smtp_conn_id, default.notificatie_max_pogingen) == (
        "bestand",
        "nazorg_smtp",
        3,
    )
    assert default.notificatie_dir == default.project_dir / "var" / "notificaties"
    assert Settings.from_env({"NAZORG_LAATSTEDAG_SCHEDULE": "none"}).laatstedag_schedule is None
    assert Settings.from_env({"NAZORG_NOTIFIER": "smtp"}).notifier == "smtp"
    for env, name in [
        ({"NAZORG_LAATSTEDAG_SCHEDULE": f"elke {BSN}"}, "NAZORG_LAATSTEDAG_SCHEDULE"),
        ({"NAZORG_NOTIFIER": f"mail-{BSN}"}, "NAZORG_NOTIFIER"),
        ({"NAZORG_SMTP_CONN_ID": f"smtp {BSN}"}, "NAZORG_SMTP_CONN_ID"),
        ({"NAZORG_NOTIFICATIE_MAX_POGINGEN": "0"}, "NAZORG_NOTIFICATIE_MAX_POGINGEN"),
    ]:
        with pytest.raises(SettingsError, match=name) as info:
            Settings.from_env(env)
        assert BSN not in str(info.value)


def test_the_notifier_setting_picks_the_implementation(tmp_path: Any) -> None:
    from nazorg.models import Kanaal
    from nazorg.notificatie import BestandNotifier, SmtpNotifier, notifier_voor

    bestand = notifier_voor(Settings.from_env({"NAZORG_NOTIFICATIE_DIR": str(tmp_path)}))
    assert (
        isinstance(bestand, BestandNotifier) and bestand.root == tmp_path and bestand.kanaal is Kanaal.BESTAND
    )
    smtp = notifier_voor(Settings.from_env({"NAZORG_NOTIFIER": "smtp", "NAZORG_SMTP_CONN_ID": "mijn_smtp"}))
    assert isinstance(smtp, SmtpNotifier) and smtp.conn_id == "mijn_smtp" and smtp.kanaal is Kanaal.SMTP


def test_every_setting_read_from_the_environment_is_in_the_readme() -> None:
    import re

    from nazorg.settings import SOURCE_ROOT

    source = (SOURCE_ROOT / "src" / "nazorg" / "settings.py").read_text(encoding="utf-8")
    readme = (SOURCE_ROOT / "README.md").read_text(encoding="utf-8")
    names = set(re.findall(r'"(NAZORG_[A-Z_]+)"', source))
    assert {"NAZORG_LAATSTEDAG_SCHEDULE", "NAZORG_NOTIFIER", "NAZORG_SMTP_CONN_ID"} <= names
    # the README writes the Airflow trio as `NAZORG_AIRFLOW_URL`, `_USER`, `_PASSWORD`
    short = {
        n
        for n in names
        if n.startswith("NAZORG_AIRFLOW_") and f"`{n.removeprefix('NAZORG_AIRFLOW')}`" in readme
    }
    assert sorted(n for n in names - short if f"`{n}`" not in readme) == []

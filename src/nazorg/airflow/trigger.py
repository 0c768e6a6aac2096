"""Start per-melding runs through the Airflow REST API v2 (idempotent: 409 means already there).

A run is started by its melding's run key (:mod:`nazorg.run_key`), which is both
its run id and the only thing in its conf; callers that know meldingen by
``melding_id`` look the key up in the pipeline DB first
(:func:`nazorg.inbox.run_key_voor`). The sender's melding id never reaches Airflow.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from nazorg.airflow.conf_guard import DAG_ID
from nazorg.airflow.rest import AirflowApi
from nazorg.run_key import CONF_KEY, is_run_key

__all__ = ["DAG_ID", "api_from_env", "run_id_for", "trigger_all", "trigger_runs"]


def run_id_for(run_key: str) -> str:
    """The DAG run id of a melding's run: its run key, nothing the sender chose."""
    if not is_run_key(run_key):
        raise ValueError("geen geldige run key")  # never echo: it might be a melding id
    return run_key


def api_from_env(timeout: float = 30) -> AirflowApi:
    """NAZORG_AIRFLOW_URL/USER/PASSWORD, or the credentials file `make up` writes."""
    from nazorg.settings import settings

    config = settings()
    url, user, password = config.airflow_url, config.airflow_user, config.airflow_password
    creds_file = config.airflow_credentials_file
    if not (url and user and password) and creds_file and creds_file.is_file():
        data = json.loads(creds_file.read_text(encoding="utf-8"))
        url, user, password = data["url"], data["username"], data["password"]
    if not (url and user and password):
        raise SystemExit(
            "geen Airflow-verbinding: zet NAZORG_AIRFLOW_URL, NAZORG_AIRFLOW_USER en "
            "NAZORG_AIRFLOW_PASSWORD (of start de ingebouwde omgeving met `make up`)"
        )
    return AirflowApi(url, user, password, timeout=timeout)


def trigger_all(api: AirflowApi, run_keys: Sequence[str]) -> dict[str, str]:
    """Conf holds the run key only; the run id (the same key) makes a second trigger a no-op."""
    return {key: api.trigger(DAG_ID, run_id_for(key), {CONF_KEY: key}) for key in run_keys}


def trigger_runs(run_keys: Sequence[str], wait: bool = False, timeout_s: float = 1800) -> dict[str, str]:
    """Start the runs of these keys; with ``wait`` their final states, else created/exists."""
    api = api_from_env()
    result = trigger_all(api, run_keys)
    if wait and run_keys:
        states = api.wait_for_runs(DAG_ID, [run_id_for(k) for k in run_keys], timeout_s=timeout_s)
        result = {k: states[run_id_for(k)] for k in run_keys}
    return result

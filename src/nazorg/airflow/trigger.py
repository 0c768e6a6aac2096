"""Start per-melding runs through the Airflow REST API v2 (idempotent: 409 means already there)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from nazorg.airflow.rest import AirflowApi

DAG_ID = "eerstedagsmelding"


def run_id_for(melding_id: str) -> str:
    return f"edm-{melding_id}"


def api_from_env() -> AirflowApi:
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
    return AirflowApi(url, user, password)


def trigger_all(api: AirflowApi, melding_ids: Sequence[str]) -> dict[str, str]:
    """Conf holds the melding id only; the run id makes a second trigger a no-op."""
    return {
        melding_id: api.trigger(DAG_ID, run_id_for(melding_id), {"melding_id": melding_id})
        for melding_id in melding_ids
    }


def trigger_meldingen(
    melding_ids: Sequence[str], wait: bool = False, timeout_s: float = 1800
) -> dict[str, str]:
    api = api_from_env()
    result = trigger_all(api, melding_ids)
    if wait and melding_ids:
        states = api.wait_for_runs(DAG_ID, [run_id_for(m) for m in melding_ids], timeout_s=timeout_s)
        result = {m: states[run_id_for(m)] for m in melding_ids}
    return result

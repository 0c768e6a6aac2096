from __future__ import annotations

import json

import pytest

from nazorg.connections import ConnectionMissing, get_connection

pytestmark = pytest.mark.unit


def test_postgres_uri_becomes_psycopg_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_DB", "postgresql://nazorg:p%40ss@db.example:5433/nazorg")
    url = get_connection("nazorg_db").sqlalchemy_url()
    assert url == "postgresql+psycopg://nazorg:p%40ss@db.example:5433/nazorg"


def test_sqlite_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_DB", "sqlite:////var/lib/nazorg/nazorg.db")
    assert get_connection("nazorg_db").sqlalchemy_url() == "sqlite:////var/lib/nazorg/nazorg.db"


def test_json_http_connection_with_path_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_HAAL_CENTRAAL_BRP",
        json.dumps(
            {
                "conn_type": "http",
                "host": "brp.example",
                "port": 8443,
                "schema": "haalcentraal/api/brp",
                "password": "sleutel",
                "extra": {"scheme": "https"},
            }
        ),
    )
    info = get_connection("haal_centraal_brp")
    assert info.base_url() == "https://brp.example:8443/haalcentraal/api/brp"
    assert info.password == "sleutel"


def test_http_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_HAAL_CENTRAAL_REISDOCUMENTEN", "http://127.0.0.1:5010/haalcentraal/api/reisdocumenten"
    )
    info = get_connection("haal_centraal_reisdocumenten")
    assert info.base_url() == "http://127.0.0.1:5010/haalcentraal/api/reisdocumenten"


def test_missing_connection_says_how_to_configure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_NAZORG_BRONNEN", raising=False)
    monkeypatch.setattr("nazorg.connections._from_airflow", lambda conn_id: None)
    with pytest.raises(ConnectionMissing, match="AIRFLOW_CONN_NAZORG_BRONNEN"):
        get_connection("nazorg_bronnen")


def test_unsupported_database_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_DB", "mysql://u@h/db")
    with pytest.raises(ValueError, match="not a supported database"):
        get_connection("nazorg_db").sqlalchemy_url()

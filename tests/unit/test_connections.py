"""Connections parse and resolve exactly as in Airflow.

Every form an operator may use (``AIRFLOW_CONN_*`` as URI or JSON, fields
entered in the Airflow UI) is resolved through :func:`get_connection`, and the
fields we get are compared with what Airflow's own ``Connection`` parses from
the same input. URLs are then checked against the rules of Airflow's hooks
(HttpHook, PostgresHook, SqliteHook).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import pytest
from airflow.sdk import BaseHook, Connection
from sqlalchemy.engine import make_url

from nazorg.connections import (
    HAAL_CENTRAAL_BRP,
    HAAL_CENTRAAL_REISDOCUMENTEN,
    NAZORG_BRONNEN,
    NAZORG_DB,
    ConnectionInfo,
    ConnectionInvalid,
    ConnectionMissing,
    get_connection,
    parse_connection,
)

pytestmark = pytest.mark.unit

FIELDS = ("conn_id", "conn_type", "host", "schema", "login", "password", "port", "extra")
API_KEY = "sleutel-12345"  # not a real key; long enough for Airflow's secret masker


def fields(conn: Any) -> dict[str, Any]:
    return {name: getattr(conn, name) for name in FIELDS}


def airflow_parse(conn_id: str, value: str) -> Connection:
    """Airflow's own parsing of an ``AIRFLOW_CONN_*`` value, independent of our module."""
    if value.lstrip().startswith("{"):
        return Connection.from_json(value, conn_id=conn_id)
    return Connection.from_uri(value, conn_id=conn_id)


def from_env(monkeypatch: pytest.MonkeyPatch, conn_id: str, value: str) -> ConnectionInfo:
    """Set ``AIRFLOW_CONN_<ID>``, resolve it, and check the fields equal Airflow's parse."""
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", value)
    info = get_connection(conn_id)
    assert fields(info) == fields(airflow_parse(conn_id, value))
    assert fields(parse_connection(conn_id, value)) == fields(info)
    return info


def from_ui(monkeypatch: pytest.MonkeyPatch, conn_id: str, **ui_fields: Any) -> ConnectionInfo:
    """A connection as Airflow hands it over from the UI / metadata DB (only BaseHook knows it)."""
    stored = Connection(conn_id=conn_id, **ui_fields)
    monkeypatch.delenv(f"AIRFLOW_CONN_{conn_id.upper()}", raising=False)
    monkeypatch.setattr(BaseHook, "get_connection", classmethod(lambda cls, cid: stored))
    info = get_connection(conn_id)
    assert fields(info) == fields(stored)
    return info


def sqlite_hook_uri(conn: Connection) -> str:
    """SqliteHook.get_uri (apache-airflow-providers-sqlite) over Airflow's own ``get_uri``."""
    uri = unquote(conn.get_uri()).replace("/?", "?")
    return uri.replace("sqlite://", "sqlite:///")


def same_sqlite_file(ours: str, hook: str) -> bool:
    """SqliteHook may produce ``//abs``; on POSIX that is the same file as ``/abs``."""

    def path(url: str) -> str:
        database = make_url(url).database or ""
        return "/" + database.lstrip("/") if database.startswith("/") else database

    return path(ours) == path(hook)


# -- HTTP: Haal Centraal -------------------------------------------------------------------------


def test_ui_schema_is_the_scheme_not_a_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reported bug: host brp.example.nl + schema https gave http://brp.example.nl/https."""
    info = from_ui(monkeypatch, HAAL_CENTRAAL_BRP, conn_type="http", host="brp.example.nl", schema="https")
    assert info.base_url() == "https://brp.example.nl"


def test_ui_full_base_url_in_host(monkeypatch: pytest.MonkeyPatch) -> None:
    info = from_ui(
        monkeypatch,
        HAAL_CENTRAAL_BRP,
        conn_type="http",
        host="https://brp.example.nl/haalcentraal/api/brp",
        password=API_KEY,
    )
    assert info.base_url() == "https://brp.example.nl/haalcentraal/api/brp"
    assert info.password == API_KEY


def test_ui_path_in_host_with_scheme_in_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    info = from_ui(
        monkeypatch,
        HAAL_CENTRAAL_REISDOCUMENTEN,
        conn_type="http",
        host="brp.example.nl/haalcentraal/api/reisdocumenten",
        schema="https",
    )
    assert info.base_url() == "https://brp.example.nl/haalcentraal/api/reisdocumenten"


def test_ui_port_is_appended(monkeypatch: pytest.MonkeyPatch) -> None:
    info = from_ui(
        monkeypatch, HAAL_CENTRAAL_BRP, conn_type="http", host="brp.example.nl", schema="https", port=8443
    )
    assert info.base_url() == "https://brp.example.nl:8443"


def test_ui_port_after_a_host_url_without_path(monkeypatch: pytest.MonkeyPatch) -> None:
    info = from_ui(monkeypatch, HAAL_CENTRAAL_BRP, conn_type="http", host="https://brp.example.nl", port=8443)
    assert info.base_url() == "https://brp.example.nl:8443"


def test_ui_scheme_defaults_to_http(monkeypatch: pytest.MonkeyPatch) -> None:
    info = from_ui(monkeypatch, HAAL_CENTRAAL_BRP, conn_type="http", host="127.0.0.1", port=5010)
    assert info.base_url() == "http://127.0.0.1:5010"


def test_uri_documented_by_the_http_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider's documented URI shape: the URI path is the schema, i.e. the scheme."""
    info = from_env(monkeypatch, HAAL_CENTRAAL_BRP, f"http://:{API_KEY}@brp.example.nl:8443/https")
    assert info.base_url() == "https://brp.example.nl:8443"
    assert info.password == API_KEY


@pytest.mark.parametrize(
    "uri",
    [
        "http://https%3A%2F%2Fbrp.example.nl%2Fhaalcentraal%2Fapi%2Fbrp",  # the whole base URL encoded
        "http://https://brp.example.nl%2Fhaalcentraal%2Fapi%2Fbrp",  # what Airflow's get_uri() writes
    ],
)
def test_uri_with_full_base_url_as_host(monkeypatch: pytest.MonkeyPatch, uri: str) -> None:
    info = from_env(monkeypatch, HAAL_CENTRAAL_BRP, uri)
    assert info.base_url() == "https://brp.example.nl/haalcentraal/api/brp"


def test_uri_keeps_the_case_of_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    info = from_env(monkeypatch, HAAL_CENTRAAL_BRP, "http://https%3A%2F%2Fbrp.example.nl%2FHaalCentraal")
    assert info.base_url() == "https://brp.example.nl/HaalCentraal"


def test_airflow_get_uri_of_a_ui_connection_round_trips(monkeypatch: pytest.MonkeyPatch) -> None:
    """``airflow connections get ... -o uri`` output can be pasted into AIRFLOW_CONN_*."""
    ui = Connection(
        conn_id=HAAL_CENTRAAL_BRP,
        conn_type="http",
        host="http://127.0.0.1:5010/haalcentraal/api/brp",
        password=API_KEY,
    )
    info = from_env(monkeypatch, HAAL_CENTRAAL_BRP, ui.get_uri())
    assert info.base_url() == "http://127.0.0.1:5010/haalcentraal/api/brp"
    assert info.password == API_KEY


def test_json_with_full_base_url_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    value = json.dumps(
        {
            "conn_type": "http",
            "host": "https://brp.example.nl:8443/haalcentraal/api/reisdocumenten",
            "password": API_KEY,
        }
    )
    info = from_env(monkeypatch, HAAL_CENTRAAL_REISDOCUMENTEN, value)
    assert info.base_url() == "https://brp.example.nl:8443/haalcentraal/api/reisdocumenten"
    assert info.password == API_KEY


def test_json_with_scheme_in_schema_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    value = json.dumps({"conn_type": "http", "host": "brp.example.nl", "schema": "https", "port": "8443"})
    info = from_env(monkeypatch, HAAL_CENTRAAL_BRP, value)
    assert info.port == 8443  # Airflow turns the JSON string into an int
    assert info.base_url() == "https://brp.example.nl:8443"


@pytest.mark.parametrize(
    ("ui_fields", "named"),
    [
        # a path in schema: HttpHook would build "haalcentraal/api/brp://host" and fail
        ({"host": "127.0.0.1", "port": 5010, "schema": "haalcentraal/api/brp"}, "'schema'"),
        # HttpHook ignores schema when host has a scheme: the path would silently vanish
        ({"host": "https://brp.example.nl", "schema": "haalcentraal/api/brp"}, "'schema'"),
        # HttpHook would append the port after the path: https://host/path:8443
        ({"host": "https://brp.example.nl/haalcentraal/api/brp", "port": 8443}, "'port'"),
        ({"host": "https://brp.example.nl:8443", "port": 8443}, "'port'"),
        ({"host": ""}, "'host'"),
        ({"host": "ftp://brp.example.nl"}, "scheme"),
        ({"host": "https://user:geheim-wachtwoord@brp.example.nl"}, "'password'"),
        ({"host": "https://brp.example.nl/api?x=1"}, "query"),
        ({"host": "https://brp.example.nl:99999"}, "port"),
        # HttpHook would use these (basic auth, headers); our client would not: refuse, not ignore
        ({"host": "brp.example.nl", "login": "gebruiker", "password": "geheim-wachtwoord"}, "'login'"),
        ({"host": "brp.example.nl", "extra": json.dumps({"X-API-KEY": "geheim-sleutel"})}, "X-API-KEY"),
        ({"host": "brp.example.nl", "extra": json.dumps({"srv_lookup": True})}, "srv_lookup"),
    ],
)
def test_http_fields_that_would_misroute_are_refused(
    monkeypatch: pytest.MonkeyPatch, ui_fields: dict[str, Any], named: str
) -> None:
    info = from_ui(monkeypatch, HAAL_CENTRAAL_BRP, conn_type="http", **ui_fields)
    with pytest.raises(ConnectionInvalid, match=named) as caught:
        info.base_url()
    assert "geheim" not in str(caught.value)
    assert HAAL_CENTRAAL_BRP in str(caught.value)


def test_plain_uri_with_a_path_is_refused_as_in_airflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """``http://host:port/path`` makes the path the schema; Airflow's HttpHook cannot use that either."""
    info = from_env(monkeypatch, HAAL_CENTRAAL_BRP, "http://127.0.0.1:5010/haalcentraal/api/brp")
    assert info.schema == "haalcentraal/api/brp"
    with pytest.raises(ConnectionInvalid, match="scheme must be http or https"):
        info.base_url()


# -- databases -----------------------------------------------------------------------------------


def test_postgres_uri_with_encoded_password_and_sslmode(monkeypatch: pytest.MonkeyPatch) -> None:
    uri = "postgresql://nazorg:p%40ss%3Aw%2Frd%25@db.example:5433/nazorg?sslmode=require"
    info = from_env(monkeypatch, NAZORG_DB, uri)
    assert info.conn_type == "postgres"  # Airflow's normalisation
    url = info.sqlalchemy_url()
    assert url == "postgresql+psycopg://nazorg:p%40ss%3Aw%2Frd%25@db.example:5433/nazorg?sslmode=require"
    parsed = make_url(url)
    assert parsed.password == "p@ss:w/rd%"
    assert dict(parsed.query) == {"sslmode": "require"}


def test_postgres_uri_with_airflow_type_name(monkeypatch: pytest.MonkeyPatch) -> None:
    info = from_env(monkeypatch, NAZORG_BRONNEN, "postgres://reader@bronnen.example/gemeente")
    assert info.sqlalchemy_url() == "postgresql+psycopg://reader@bronnen.example/gemeente"


def test_postgres_json_extras_follow_postgres_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    value = json.dumps(
        {
            "conn_type": "postgres",
            "host": "db.example",
            "port": 5432,
            "schema": "nazorg",
            "login": "nazorg",
            "password": "p@ss word",
            "extra": {
                "sslmode": "verify-full",
                "connect_timeout": 10,
                "cursor": "dictcursor",  # PostgresHook's own option, not a libpq parameter
                "sqlalchemy_query": {"application_name": "nazorg"},
            },
        }
    )
    info = from_env(monkeypatch, NAZORG_DB, value)
    parsed = make_url(info.sqlalchemy_url())
    assert parsed.drivername == "postgresql+psycopg"
    assert (parsed.username, parsed.password, parsed.host, parsed.port, parsed.database) == (
        "nazorg",
        "p@ss word",
        "db.example",
        5432,
        "nazorg",
    )
    assert dict(parsed.query) == {
        "sslmode": "verify-full",
        "connect_timeout": "10",
        "application_name": "nazorg",
    }


def test_postgres_ui_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    info = from_ui(
        monkeypatch,
        NAZORG_DB,
        conn_type="postgres",
        host="db.example",
        schema="nazorg",
        login="nazorg",
        password="geheim@wacht/woord",
        port=5432,
        extra=json.dumps({"sslmode": "require"}),
    )
    url = info.sqlalchemy_url()
    assert url == "postgresql+psycopg://nazorg:geheim%40wacht%2Fwoord@db.example:5432/nazorg?sslmode=require"
    assert make_url(url).password == "geheim@wacht/woord"


@pytest.mark.parametrize(
    "extra", [{"iam": True}, {"sslmode": {"nested": "x"}}, {"keepalives": True}, {"sqlalchemy_query": "x"}]
)
def test_postgres_extras_we_cannot_honour_are_refused(
    monkeypatch: pytest.MonkeyPatch, extra: dict[str, Any]
) -> None:
    value = json.dumps({"conn_type": "postgres", "host": "db.example", "extra": extra})
    info = from_env(monkeypatch, NAZORG_DB, value)
    with pytest.raises(ConnectionInvalid, match="extra"):
        info.sqlalchemy_url()


def test_malformed_extra_is_an_error_not_silently_empty() -> None:
    info = ConnectionInfo(conn_id=NAZORG_DB, conn_type="postgres", host="db", extra='{"sslmode": ')
    with pytest.raises(ConnectionInvalid, match="not valid JSON") as caught:
        info.sqlalchemy_url()
    assert caught.value.__context__ is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # SQLAlchemy's absolute form, as the demo writes it
        ("sqlite:////var/lib/nazorg/nazorg.db", "sqlite:////var/lib/nazorg/nazorg.db"),
        # Airflow's documented absolute form: three slashes
        ("sqlite:///var/lib/nazorg/nazorg.db", "sqlite:////var/lib/nazorg/nazorg.db"),
        # Airflow's documented relative form
        ("sqlite://var/nazorg.db", "sqlite:///var/nazorg.db"),
        # Airflow's JSON form: the file in host
        (
            '{"conn_type": "sqlite", "host": "/var/lib/nazorg/nazorg.db"}',
            "sqlite:////var/lib/nazorg/nazorg.db",
        ),
        (
            '{"conn_type": "sqlite", "host": "/srv/n.db", "extra": {"timeout": 30}}',
            "sqlite:////srv/n.db?timeout=30",
        ),
    ],
)
def test_sqlite_forms_open_the_file_sqlite_hook_opens(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    info = from_env(monkeypatch, NAZORG_DB, value)
    url = info.sqlalchemy_url()
    assert url == expected
    assert same_sqlite_file(url, sqlite_hook_uri(airflow_parse(NAZORG_DB, value)))


def test_sqlite_ui_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    info = from_ui(monkeypatch, NAZORG_DB, conn_type="sqlite", host="/var/lib/nazorg/nazorg.db")
    assert info.sqlalchemy_url() == "sqlite:////var/lib/nazorg/nazorg.db"


def test_sqlite_without_a_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    info = from_env(monkeypatch, NAZORG_DB, "sqlite://")
    with pytest.raises(ConnectionInvalid, match="'host'"):
        info.sqlalchemy_url()


@pytest.mark.parametrize("value", ["mysql://u@h/db", "http://db.example/https"])
def test_unsupported_database_type_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    info = from_env(monkeypatch, NAZORG_DB, value)
    with pytest.raises(ValueError, match="not a supported database"):
        info.sqlalchemy_url()


# -- lookup --------------------------------------------------------------------------------------


def test_missing_connection_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_NAZORG_BRONNEN", raising=False)
    with pytest.raises(ConnectionMissing, match="AIRFLOW_CONN_NAZORG_BRONNEN") as caught:
        get_connection(NAZORG_BRONNEN)
    assert "nazorg_bronnen" in str(caught.value)


@pytest.mark.parametrize(
    "value",
    [
        "postgresql://u:geheim-wachtwoord@h/db://x://y",  # more than two '://': Airflow refuses
        '{"conn_type": "http", "host": "h", "password": "geheim-wachtwoord", "port": "x"}',
        '{"conn_type": "http", "url": "https://h", "password": "geheim-wachtwoord"}',
    ],
)
def test_unparsable_variable_is_reported_without_its_value(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_NAZORG_DB", value)
    with pytest.raises(Exception):  # first: Airflow itself cannot parse it
        airflow_parse(NAZORG_DB, value)
    with pytest.raises(ConnectionInvalid, match="AIRFLOW_CONN_NAZORG_DB is set but") as caught:
        get_connection(NAZORG_DB)
    assert "geheim" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert "geheim" not in str(caught.value.__context__)


def test_lookup_goes_through_airflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a task Airflow's BaseHook consults secrets backends and the metadata DB: it must be asked."""
    asked: list[str] = []
    stored = Connection(conn_id=NAZORG_DB, conn_type="sqlite", host="/srv/store.db")

    def lookup(cls: type, conn_id: str) -> Connection:
        asked.append(conn_id)
        return stored

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(lookup))
    assert get_connection(NAZORG_DB).sqlalchemy_url() == "sqlite:////srv/store.db"
    assert asked == [NAZORG_DB]


def test_secrets_stay_out_of_repr() -> None:
    info = ConnectionInfo(
        conn_id=NAZORG_DB, conn_type="postgres", password="geheim-wachtwoord", extra='{"k": "geheim"}'
    )
    assert "geheim" not in repr(info)

"""Resolve connection ids the way Airflow does, without importing Airflow when it is not needed.

Operators configure ``AIRFLOW_CONN_<ID>`` (URI or JSON), exactly what Airflow
reads. The CLI and tests resolve those variables directly; inside a task we
fall back to Airflow's own lookup so that a secrets backend or a connection in
the metadata DB works too. Secrets therefore never live in the repository.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

NAZORG_DB = "nazorg_db"
NAZORG_BRONNEN = "nazorg_bronnen"
HAAL_CENTRAAL_BRP = "haal_centraal_brp"
HAAL_CENTRAAL_REISDOCUMENTEN = "haal_centraal_reisdocumenten"


class ConnectionMissing(LookupError):
    """No connection with this id is configured."""


@dataclass(frozen=True)
class ConnectionInfo:
    conn_type: str
    host: str = ""
    port: int | None = None
    schema: str = ""
    login: str = ""
    password: str = ""
    extra: str = ""

    @property
    def extra_dict(self) -> dict[str, object]:
        if not self.extra:
            return {}
        loaded = json.loads(self.extra)
        return loaded if isinstance(loaded, dict) else {}

    def sqlalchemy_url(self) -> str:
        """A SQLAlchemy URL; PostgreSQL always through psycopg 3."""
        kind = self.conn_type.replace("-", "_")
        if kind == "sqlite":
            path = self.host or self.schema
            return f"sqlite:///{path}"
        if kind in {"postgres", "postgresql"}:
            auth = ""
            if self.login:
                auth = quote(self.login, safe="")
                if self.password:
                    auth += ":" + quote(self.password, safe="")
                auth += "@"
            port = f":{self.port}" if self.port else ""
            return f"postgresql+psycopg://{auth}{self.host}{port}/{self.schema}"
        raise ValueError(f"connection type {self.conn_type!r} is not a supported database")

    def base_url(self) -> str:
        """Base URL of an HTTP API; ``schema`` holds the path prefix, as in Airflow."""
        scheme = self.extra_dict.get("scheme") or (
            self.conn_type if self.conn_type in {"http", "https"} else "http"
        )
        port = f":{self.port}" if self.port else ""
        path = "/" + self.schema.strip("/") if self.schema else ""
        return f"{scheme}://{self.host}{port}{path}"


def _from_uri(uri: str) -> ConnectionInfo:
    parts = urlsplit(uri)
    conn_type = parts.scheme.replace("-", "_")
    if conn_type == "sqlite":
        # sqlite:////abs/path.db  -> path /abs/path.db (SQLAlchemy's own form)
        return ConnectionInfo(conn_type="sqlite", host=unquote(uri.split("sqlite:///", 1)[1]))
    return ConnectionInfo(
        conn_type=conn_type,
        host=unquote(parts.hostname or ""),
        port=parts.port,
        schema=unquote(parts.path.lstrip("/")),
        login=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        extra=json.dumps(dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p))
        if parts.query
        else "",
    )


def _from_env(conn_id: str) -> ConnectionInfo | None:
    raw = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if not raw:
        return None
    if raw.lstrip().startswith("{"):
        data = json.loads(raw)
        extra = data.get("extra") or ""
        return ConnectionInfo(
            conn_type=str(data.get("conn_type", "")),
            host=str(data.get("host") or ""),
            port=int(data["port"]) if data.get("port") else None,
            schema=str(data.get("schema") or ""),
            login=str(data.get("login") or ""),
            password=str(data.get("password") or ""),
            extra=extra if isinstance(extra, str) else json.dumps(extra),
        )
    return _from_uri(raw)


def _from_airflow(conn_id: str) -> ConnectionInfo | None:
    try:
        from airflow.sdk import BaseHook
    except ImportError:  # pragma: no cover - the CLI runs without a task context
        return None
    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception:  # Airflow raises its own not-found types, which differ per context
        return None
    return ConnectionInfo(
        conn_type=conn.conn_type or "",
        host=conn.host or "",
        port=conn.port,
        schema=conn.schema or "",
        login=conn.login or "",
        password=conn.password or "",
        extra=conn.extra or "",
    )


def get_connection(conn_id: str) -> ConnectionInfo:
    info = _from_env(conn_id) or _from_airflow(conn_id)
    if info is None:
        raise ConnectionMissing(
            f"connection {conn_id!r} is not configured: set AIRFLOW_CONN_{conn_id.upper()} "
            "or add it to Airflow's connections"
        )
    return info

"""Resolve connection ids through Airflow itself, and turn them into URLs the way Airflow's hooks do.

Why: operators configure connections the Airflow way (``AIRFLOW_CONN_<ID>`` as a
URI or JSON, the Airflow UI, a secrets backend), and expect the same fields to
mean what they mean in Airflow. A home-made parser drifted from that (an HTTP
connection with schema ``https`` became ``http://host/https``), so parsing and
lookup are now Airflow's own: :func:`get_connection` asks
``airflow.sdk.BaseHook.get_connection``, which inside a task walks every
configured secrets backend and the metadata database, and outside a task (the
CLI) reads ``AIRFLOW_CONN_*`` plus any configured secrets backend. Only the
last step, fields to URL, is ours, and it follows the hooks Airflow would use:

* HTTP (:meth:`ConnectionInfo.base_url`): the rule of ``HttpHook._set_base_url``
  in apache-airflow-providers-http 6.3.0 (``providers/http/src/airflow/providers/
  http/hooks/http.py``). That provider is not installed here (it would add
  aiohttp and requests-toolbelt for six lines), so the rule is restated below.
* PostgreSQL and SQLite (:meth:`ConnectionInfo.sqlalchemy_url`): the fields
  ``PostgresHook`` and ``SqliteHook`` connect with, as a SQLAlchemy URL that
  always uses psycopg 3.

Airflow is imported inside the functions: importing it costs seconds, and most
CLI commands and all DAG parsing never resolve a connection.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

NAZORG_DB = "nazorg_db"
NAZORG_BRONNEN = "nazorg_bronnen"
HAAL_CENTRAAL_BRP = "haal_centraal_brp"
HAAL_CENTRAAL_REISDOCUMENTEN = "haal_centraal_reisdocumenten"

POSTGRES_TYPES = frozenset({"postgres", "postgresql"})  # Airflow normalises the second to the first
HTTP_SCHEMES = frozenset({"http", "https"})
_NOT_JSON = object()

# Extras PostgresHook keeps out of the libpq parameters (``ignored_extra_options``).
_POSTGRES_HOOK_ONLY_EXTRAS = frozenset(
    {
        "iam",
        "redshift",
        "redshift-serverless",
        "cursor",
        "cluster-identifier",
        "workgroup-name",
        "aws_conn_id",
        "sqlalchemy_scheme",
        "sqlalchemy_query",
    }
)
# Of those, the ones that change how PostgresHook authenticates: we cannot honour them.
_POSTGRES_UNSUPPORTED_EXTRAS = ("iam", "redshift", "redshift-serverless")


class ConnectionMissing(LookupError):
    """No connection with this id is configured."""


class ConnectionInvalid(ValueError):
    """A connection exists but cannot be used; the message names fields, never their values."""


def env_var(conn_id: str) -> str:
    """The environment variable Airflow reads for ``conn_id``."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


@dataclass(frozen=True)
class ConnectionInfo:
    """The fields of an Airflow connection, named and typed as on ``airflow.sdk.Connection``.

    Secrets stay out of ``repr`` so that logging the object cannot leak them.
    """

    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    port: int | None = None
    extra: str | None = field(default=None, repr=False)

    @classmethod
    def from_airflow(cls, conn: Any) -> ConnectionInfo:
        """Copy the fields of an Airflow ``Connection`` (SDK or core model)."""
        return cls(
            conn_id=conn.conn_id,
            conn_type=conn.conn_type,
            host=conn.host,
            schema=conn.schema,
            login=conn.login,
            password=conn.password,
            port=conn.port,
            extra=conn.extra,
        )

    @property
    def extra_dejson(self) -> dict[str, Any]:
        """``extra`` as a dict; unlike Airflow, malformed JSON is an error, not silently ``{}``.

        Silently dropping e.g. ``sslmode`` would weaken a connection without anyone noticing.
        """
        if not self.extra:
            return {}
        loaded: object = _NOT_JSON
        # reported below, unchained: a JSON decode error holds the whole text
        with contextlib.suppress(ValueError):
            loaded = json.loads(self.extra)
        if loaded is _NOT_JSON:
            raise self._invalid("'extra' is not valid JSON")
        if not isinstance(loaded, dict):
            raise self._invalid("'extra' must be a JSON object")
        return loaded

    def _invalid(self, why: str) -> ConnectionInvalid:
        return ConnectionInvalid(f"connection {self.conn_id!r}: {why}")

    # -- databases ---------------------------------------------------------------------------

    def sqlalchemy_url(self) -> str:
        """A SQLAlchemy URL for a ``postgres`` or ``sqlite`` connection; PostgreSQL through psycopg 3."""
        kind = self.conn_type or ""
        if kind in POSTGRES_TYPES:
            return self._postgres_url()
        if kind == "sqlite":
            return self._sqlite_url()
        raise self._invalid(
            f"connection type {kind!r} is not a supported database (use 'postgres' or 'sqlite')"
        )

    def _postgres_url(self) -> str:
        """What ``PostgresHook`` connects with, as one URL.

        ``PostgresHook.get_conn`` hands psycopg login, password, host, port,
        database (``schema``) and every extra except its own options (``cursor``,
        ``iam``...) as libpq parameters; its ``sqlalchemy_url`` adds the
        ``sqlalchemy_query`` extra. Both go into the query string here, so an
        ``sslmode`` in the extra applies to our engine as it would to the hook.
        """
        from sqlalchemy.engine import URL

        extra = self.extra_dejson
        for key in _POSTGRES_UNSUPPORTED_EXTRAS:
            if extra.get(key):
                raise self._invalid(f"extra {key!r} (AWS token authentication) is not supported")
        params = {k: v for k, v in extra.items() if k not in _POSTGRES_HOOK_ONLY_EXTRAS}
        sqlalchemy_query = extra.get("sqlalchemy_query") or {}
        if not isinstance(sqlalchemy_query, dict):
            raise self._invalid("extra 'sqlalchemy_query' must be a JSON object")
        params.update(sqlalchemy_query)
        url = URL.create(
            drivername="postgresql+psycopg",
            username=self.login or None,
            password=self.password or None,
            host=self.host or None,
            port=self.port or None,
            database=self.schema or None,
            query=self._query(params),
        )
        return url.render_as_string(hide_password=False)

    def _sqlite_url(self) -> str:
        """The database file ``SqliteHook`` opens, as a SQLAlchemy URL.

        ``SqliteHook.get_uri`` unquotes Airflow's own URI of the connection and
        adds one slash: the file is ``host``, ``host/schema``, or ``/schema`` when
        only the URI path was given. So ``sqlite:////abs/db`` (SQLAlchemy's form)
        and ``sqlite:///abs/db`` (Airflow's documented form) both mean ``/abs/db``,
        and ``sqlite://relative/db`` a relative file. Extras become query
        parameters, as in the hook. An empty path would be an in-memory
        database, useless for a store, so it is refused.
        """
        from sqlalchemy.engine import URL

        host, schema = self.host or "", self.schema or ""
        if host and schema:
            path = f"{host}/{schema}"
        elif host:
            path = host
        elif schema:
            path = "/" + schema.lstrip("/")  # SqliteHook's "//abs" and "/abs" are the same file
        else:
            raise self._invalid("a sqlite connection needs the database file path in 'host'")
        url = URL.create(drivername="sqlite", database=path, query=self._query(self.extra_dejson))
        return url.render_as_string(hide_password=False)

    def _query(self, params: dict[str, Any]) -> dict[str, str]:
        query: dict[str, str] = {}
        for key, value in params.items():
            if value is None:
                continue  # psycopg drops None parameters too
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise self._invalid(f"extra {key!r} must be a string or a number")
            query[key] = str(value)
        return query

    # -- HTTP --------------------------------------------------------------------------------

    def base_url(self) -> str:
        """The base URL ``HttpHook`` would call; endpoints are appended to it.

        HttpHook's rule (``_set_base_url``): if ``host`` contains ``://`` it is
        the base URL as is; otherwise the URL is ``<schema>://<host>`` with
        ``schema`` defaulting to ``http``. A ``port`` is then appended. So the
        scheme goes in ``schema`` or at the start of ``host``, and a path
        prefix (``/haalcentraal/api/brp``) can only be part of ``host``.

        Where that rule would give a URL that silently points elsewhere, we
        refuse instead: no host, a scheme other than http(s) (e.g. a path in
        ``schema``, which HttpHook rejects too), a ``schema`` next to a host
        that has its own scheme (HttpHook ignores it, dropping a path put
        there), a ``port`` after a path or a second port, and credentials,
        query or fragment inside ``host``.

        HttpHook would also send ``login``/``password`` as basic auth and every
        extra as a header or request option; our Haal Centraal client sends
        only ``password``, as the API key (``X-API-KEY``). So a ``login`` or an
        extra is refused rather than silently ignored.
        """
        if self.login:
            raise self._invalid("'login' is not used: the API key goes in 'password'")
        if self.extra_dejson:
            keys = ", ".join(sorted(self.extra_dejson))
            raise self._invalid(f"extras are not supported for HTTP connections (found: {keys})")
        host = self.host or ""  # HttpHook.default_host
        schema = self.schema or "http"
        if not host:
            raise self._invalid("an HTTP connection needs 'host' (a server name or a full base URL)")
        if "://" in host:
            if self.schema and self.schema.lower() != host.split("://", 1)[0].lower():
                raise self._invalid(
                    "'schema' is ignored by Airflow's HttpHook when 'host' has a scheme; "
                    "put a path in 'host' (https://server/path) and leave 'schema' empty"
                )
            base = host
        else:
            base = f"{schema}://{host}"
        parts = urlsplit(base)
        own_port: int | None = -1
        with contextlib.suppress(ValueError):  # reported below, unchained
            own_port = parts.port
        if own_port == -1:
            raise self._invalid("'host' has an invalid port")
        if parts.scheme not in HTTP_SCHEMES:
            raise self._invalid(
                "the URL scheme must be http or https, given in 'schema' or at the start of 'host'; "
                "a path belongs in 'host' (https://server/path), as in Airflow's HttpHook"
            )
        if not parts.hostname:
            raise self._invalid("'host' has no server name")
        if parts.username is not None or parts.password is not None:
            raise self._invalid("credentials belong in 'password', not in 'host'")
        if parts.query or parts.fragment:
            raise self._invalid("'host' must not contain a query or fragment")
        if self.port:
            if parts.path or own_port is not None:
                raise self._invalid(
                    "'port' is appended after 'host' (Airflow's HttpHook); with a path or port "
                    "in 'host', put the port in the host URL instead"
                )
            base = f"{base}:{self.port}"
        return base


def http_connection_json(base_url: str, api_key: str | None = None) -> str:
    """An ``AIRFLOW_CONN_*`` value (JSON form) for an HTTP API at ``base_url``, path included.

    The URI form cannot carry a path prefix in Airflow's HTTP semantics (the
    path would become ``schema``, the scheme), so the demo, the tests and
    docker-compose write this form.
    """
    fields: dict[str, str] = {"conn_type": "http", "host": base_url}
    if api_key:
        fields["password"] = api_key
    return json.dumps(fields)


def get_connection(conn_id: str) -> ConnectionInfo:
    """The connection ``conn_id``, looked up exactly as an Airflow hook looks it up."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        _explain_unparsable_env(conn_id)
        raise ConnectionMissing(
            f"connection {conn_id!r} is not configured: set {env_var(conn_id)} "
            "(an Airflow connection URI or JSON) or add it to Airflow's connections"
        ) from None
    return ConnectionInfo.from_airflow(conn)


def parse_connection(conn_id: str, value: str) -> ConnectionInfo:
    """Parse an ``AIRFLOW_CONN_*`` value as Airflow's secrets backends do.

    Airflow's rule (``BaseSecretsBackend._deserialize_connection_value``):
    after stripping, a value starting with ``{`` is JSON
    (``Connection.from_json``), anything else a URI (``Connection.from_uri``).
    """
    from airflow.sdk import Connection

    value = value.strip()
    if value.startswith("{"):
        conn = Connection.from_json(value, conn_id=conn_id)
    else:
        conn = Connection.from_uri(value, conn_id=conn_id)
    return ConnectionInfo.from_airflow(conn)


def _explain_unparsable_env(conn_id: str) -> None:
    """Airflow reports a malformed ``AIRFLOW_CONN_*`` as "not defined"; say what is really wrong.

    The message carries the exception type only: Airflow's own parse errors
    quote the URI, password included.
    """
    from airflow.secrets.environment_variables import EnvironmentVariablesBackend

    value = EnvironmentVariablesBackend().get_conn_value(conn_id)
    if not value:
        return
    try:
        parse_connection(conn_id, value)
    except Exception as exc:  # any parse failure; raised below, outside this block,
        problem = type(exc).__name__  # so the error (which may quote the value) is not chained
    else:
        return
    raise ConnectionInvalid(
        f"connection {conn_id!r}: {env_var(conn_id)} is set but is not a valid Airflow "
        f"connection URI or JSON ({problem})"
    )

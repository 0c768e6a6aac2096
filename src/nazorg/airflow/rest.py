"""A small client for the Airflow 3 REST API v2.

Authentication follows the auth manager's token endpoint: ``POST /auth/token``
with a JSON body ``{"username": ..., "password": ...}`` answers ``201`` with
``{"access_token": "<JWT>"}`` (SimpleAuthManager, and FAB/Keycloak alike). Every
API call then carries ``Authorization: Bearer <JWT>``; on a ``401`` the token
is fetched again once (it expires after ``[api_auth] jwt_expiration_time``).

Request bodies are never logged nor put into exception messages: a DAG run's
``conf`` must only ever hold ids, but this client does not rely on that.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import httpx

log = logging.getLogger(__name__)

TERMINAL_RUN_STATES = frozenset({"success", "failed"})
_PAGE = 100


TRIGGER_ATTEMPTS = 5


class AirflowApiError(RuntimeError):
    """The API answered with an unexpected status; ``detail`` is the API's own explanation."""

    def __init__(self, method: str, path: str, status_code: int, detail: object) -> None:
        self.method = method
        self.path = path
        self.status_code = status_code
        self.detail = detail
        super().__init__(f"Airflow API {method} {path} failed with HTTP {status_code}: {detail}")


class AirflowAuthError(AirflowApiError):
    """The credentials were refused by ``/auth/token``."""


def _detail(response: httpx.Response) -> object:
    """The ``detail`` of an error answer (FastAPI's convention), else a short text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(body, dict) and "detail" in body:
        return body["detail"]
    return body


def _q(part: str) -> str:
    """Quote one path segment (run ids may contain ``:`` and ``+``)."""
    return quote(part, safe="")


class AirflowApi:
    """Talks to ``{base_url}/api/v2`` with a JWT obtained from ``{base_url}/auth/token``."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        timeout: float = 30,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        self._token: str | None = None
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        return f"AirflowApi(base_url={self.base_url!r}, username={self.username!r})"

    # -- lifecycle ---------------------------------------------------------

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> AirflowApi:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- transport ---------------------------------------------------------

    def _login(self) -> str:
        response = self._client.post(
            "/auth/token",
            json={"username": self.username, "password": self._password},
        )
        if response.status_code not in (200, 201):
            cls = AirflowAuthError if response.status_code in (400, 401, 403) else AirflowApiError
            raise cls("POST", "/auth/token", response.status_code, _detail(response))
        token = response.json().get("access_token")
        if not isinstance(token, str) or not token:
            raise AirflowAuthError("POST", "/auth/token", response.status_code, "no access_token")
        self._token = token
        return token

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """One authenticated call; a 401 fetches a fresh token and retries once."""
        url = f"/api/v2{path}"
        for attempt in range(2):
            token = self._token or self._login()
            response = self._client.request(
                method,
                url,
                json=json,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
            if response.status_code == 401 and attempt == 0:
                self._token = None
                continue
            return response
        return response  # pragma: no cover - the loop always returns

    def _ok(self, response: httpx.Response, method: str, path: str) -> Any:
        if response.is_success:
            return response.json() if response.content else None
        raise AirflowApiError(method, f"/api/v2{path}", response.status_code, _detail(response))

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._ok(self._request("GET", path, params=params), "GET", path)

    # -- public API --------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``GET /api/v2/monitor/health`` (needs no token)."""
        response = self._client.get("/api/v2/monitor/health")
        result: dict[str, Any] = self._ok(response, "GET", "/monitor/health")
        return result

    def version(self) -> dict[str, Any]:
        result: dict[str, Any] = self._get("/version")
        return result

    def get_dag(self, dag_id: str) -> dict[str, Any] | None:
        """The DAG as the api-server knows it, or ``None`` while it has not been parsed."""
        path = f"/dags/{_q(dag_id)}"
        response = self._request("GET", path)
        if response.status_code == 404:
            return None
        result: dict[str, Any] = self._ok(response, "GET", path)
        return result

    def import_errors(self) -> list[dict[str, Any]]:
        """All current DAG import errors (``filename``, ``stack_trace``, ...)."""
        return self._paged("/importErrors", "import_errors")

    def unpause(self, dag_id: str) -> None:
        path = f"/dags/{_q(dag_id)}"
        response = self._request(
            "PATCH", path, json={"is_paused": False}, params={"update_mask": "is_paused"}
        )
        self._ok(response, "PATCH", path)

    def trigger(
        self,
        dag_id: str,
        run_id: str,
        conf: Mapping[str, Any] | None = None,
        *,
        attempts: int = TRIGGER_ATTEMPTS,
    ) -> Literal["created", "exists"]:
        """Create run ``run_id``; a second call with the same id answers ``"exists"`` (HTTP 409).

        ``attempts=1`` tries once and raises on a 5xx or timeout: for a caller
        that keeps its own retry schedule (the intake API must not hold a
        request for the 15 s of backoff below).
        """
        path = f"/dags/{_q(dag_id)}/dagRuns"
        body = {"dag_run_id": run_id, "logical_date": None, "conf": dict(conf or {})}
        # The run id makes the trigger idempotent, so a 5xx (SQLite's "database is
        # locked" under load) is safe to retry: if the first try did land, the
        # retry answers 409 and we report "exists".
        # A read timeout is the same case seen from this side: the api-server is
        # still waiting for the lock when our client gives up.
        for attempt in range(max(1, attempts)):
            last = attempt == max(1, attempts) - 1
            try:
                response = self._request("POST", path, json=body)
            except httpx.TimeoutException:
                if last:
                    raise
                log.warning("trigger of %s timed out; retrying", run_id)
            else:
                if response.status_code < 500 or last:
                    break
                log.warning("trigger of %s answered HTTP %s; retrying", run_id, response.status_code)
            time.sleep(min(2.0**attempt, 10.0))
        if response.status_code == 409:
            log.info("run %s of %s already exists", run_id, dag_id)
            return "exists"
        self._ok(response, "POST", path)
        log.info("triggered run %s of %s", run_id, dag_id)
        return "created"

    def trigger_generated(self, dag_id: str) -> str:
        """Create a run without conf and let Airflow generate its id; that id.

        For DAGs that accept only run ids Airflow generated (``intake_batch``: see
        :mod:`nazorg.airflow.conf_guard`). Not idempotent, so never retried: a
        5xx or a timeout is raised, and the caller looks at the DAG's runs.
        """
        path = f"/dags/{_q(dag_id)}/dagRuns"
        body = self._ok(self._request("POST", path, json={"logical_date": None}), "POST", path)
        run_id = body.get("dag_run_id") if isinstance(body, dict) else None
        if not isinstance(run_id, str) or not run_id:
            raise AirflowApiError("POST", f"/api/v2{path}", 200, "no dag_run_id in the answer")
        log.info("triggered run %s of %s", run_id, dag_id)
        return run_id

    def run_state(self, dag_id: str, run_id: str) -> str:
        run = self._get(f"/dags/{_q(dag_id)}/dagRuns/{_q(run_id)}")
        return str(run["state"])

    def wait_for_runs(
        self, dag_id: str, run_ids: Iterable[str], timeout_s: float, poll_s: float = 1.0
    ) -> dict[str, str]:
        """Poll until every run is ``success`` or ``failed``; their final states by run id."""
        pending = list(dict.fromkeys(run_ids))
        done: dict[str, str] = {}
        deadline = time.monotonic() + timeout_s
        while True:
            for run_id in list(pending):
                state = self.run_state(dag_id, run_id)
                if state in TERMINAL_RUN_STATES:
                    done[run_id] = state
                    pending.remove(run_id)
            if not pending:
                return done
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{len(pending)} run(s) of {dag_id} unfinished after {timeout_s:g}s: "
                    + ", ".join(pending)
                )
            time.sleep(poll_s)

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        """State per task id (``task_id[map_index]`` for mapped task instances)."""
        path = f"/dags/{_q(dag_id)}/dagRuns/{_q(run_id)}/taskInstances"
        states: dict[str, str] = {}
        for ti in self._paged(path, "task_instances"):
            key = str(ti["task_id"])
            map_index = ti.get("map_index", -1)
            if isinstance(map_index, int) and map_index >= 0:
                key = f"{key}[{map_index}]"
            states[key] = str(ti.get("state"))
        return states

    def _paged(self, path: str, key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self._get(path, params={"limit": _PAGE, "offset": len(items)})
            batch = page.get(key, [])
            items.extend(batch)
            if not batch or len(items) >= int(page.get("total_entries", len(items))):
                return items

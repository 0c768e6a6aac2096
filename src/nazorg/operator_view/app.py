"""The operator's view as a FastAPI app that Airflow's api-server mounts (``plugins/nazorg_operator.py``).

Two routes, the same counts (:func:`nazorg.operator_view.tellingen.verzamel`):
``/`` the HTML page, ``/tellingen.json`` for monitoring. Both sit behind the
dependency the caller must pass: in the plugin, Airflow's own login
(:func:`nazorg.airflow.toegang.airflow_gebruiker`). A plugin app gets no
authentication from Airflow by itself: without it the page would be public on
the api-server's port. This module does not import Airflow.

Every response says ``Cache-Control: no-store`` and carries a Content Security
Policy that loads nothing from elsewhere and lets only Airflow's own UI frame
the page. An error names its kind, never a connection URL or an exception text.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from nazorg.operator_view.tellingen import (
    MAX_UREN,
    MIN_UREN,
    STANDAARD_UREN,
    Bewaarachterstand,
    Overzicht,
    bewaarachterstand,
    verzamel,
)
from nazorg.operator_view.weergave import CSP, als_html

if TYPE_CHECKING:
    from nazorg.register import Register
    from nazorg.settings import Settings
    from nazorg.store import Store

log = logging.getLogger(__name__)

#: the window of "recent", in hours (a query parameter; outside the range: 422)
Uren = Annotated[int, Query(ge=MIN_UREN, le=MAX_UREN)]


@dataclass(frozen=True)
class Bron:
    """What the counts are read from."""

    store: Store
    register: Register
    settings: Settings


#: how long a computed retention backlog is shown before it is computed again
ACHTERSTAND_S = 300.0


class Achterstand:
    """The retention backlog, computed at most once per :data:`ACHTERSTAND_S` and per day.

    Why: the other counts are single aggregates, but the backlog runs the retention
    plan over every melding's clock and every (melding, check) pair: hundreds of
    thousands of rows at scale, on every refresh of a monitoring probe. What is due
    changes with the day and with the daily run, so a few minutes' staleness is harmless.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waarde: tuple[float, str, Bewaarachterstand] | None = None

    def __call__(self, b: Bron, nu: datetime) -> Bewaarachterstand:
        with self._lock:
            dag = nu.date().isoformat()
            if self._waarde is not None:
                gemaakt, voor_dag, waarde = self._waarde
                if voor_dag == dag and time.monotonic() - gemaakt < ACHTERSTAND_S:
                    return waarde
            waarde = bewaarachterstand(b.store, b.register, b.settings, nu)
            self._waarde = (time.monotonic(), dag, waarde)
            return waarde


def live_bron() -> Bron:
    """The deployment's pipeline DB, register and settings (:func:`nazorg.wiring.runtime`)."""
    from nazorg.wiring import runtime

    rt = runtime()
    return Bron(rt.store, rt.policy.register, rt.settings)


def _beveilig(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"


def maak_app(
    *,
    toegang: Callable[..., Any],
    bron: Callable[[], Bron] = live_bron,
    klok: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    """The app, every route behind the dependency ``toegang``.

    ``toegang`` has no default on purpose: the plugin passes Airflow's login
    (:func:`nazorg.airflow.toegang.airflow_gebruiker`); an app without one cannot be made
    by leaving an argument out. A test passes another ``bron`` or ``klok`` too.
    """
    app = FastAPI(
        title="Nazorg-intake: beheeroverzicht",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(toegang)],
    )

    @app.middleware("http")
    async def _kopregels(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response: Response = await call_next(request)
        _beveilig(response)
        return response

    achterstand = Achterstand()

    def _overzicht(uren: int) -> Overzicht:
        try:
            b = bron()
            nu = klok()
            return verzamel(b.store, b.register, b.settings, nu=nu, uren=uren, achterstand=achterstand(b, nu))
        except Exception as exc:  # the type only: a driver's message may hold a URL
            log.error("beheeroverzicht: tellingen niet op te halen (%s)", type(exc).__name__)
            raise HTTPException(status_code=503, detail="tellingen niet beschikbaar") from None

    @app.get("/", response_class=HTMLResponse)
    def pagina(uren: Uren = STANDAARD_UREN) -> HTMLResponse:
        return HTMLResponse(als_html(_overzicht(uren)))

    @app.get("/tellingen.json")
    def tellingen(uren: Uren = STANDAARD_UREN) -> JSONResponse:
        return JSONResponse(_overzicht(uren).als_dict())

    return app

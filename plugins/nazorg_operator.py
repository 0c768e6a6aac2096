"""Airflow plugin: the operator's view of nazorg-intake (issue 9 §6), mounted on the api-server.

Only registration lives here; the page, its counts and its login check are
:mod:`nazorg.operator_view`. Airflow mounts the app at
:data:`nazorg.operator_view.URL_PREFIX` and shows a menu entry (``external_views``)
that frames it inside its UI. The app refuses any request without a logged-in
Airflow user (:func:`nazorg.airflow.toegang.airflow_gebruiker`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

from nazorg.airflow.toegang import airflow_gebruiker
from nazorg.operator_view import URL_PREFIX
from nazorg.operator_view.app import maak_app

NAAM = "Nazorg beheeroverzicht"


class NazorgOperatorPlugin(AirflowPlugin):
    name = "nazorg_operator"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": maak_app(toegang=airflow_gebruiker), "url_prefix": URL_PREFIX, "name": NAAM}
    ]
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": NAAM,
            "href": f"{URL_PREFIX.lstrip('/')}/",
            "url_route": "nazorg-beheeroverzicht",
            "destination": "nav",
            "category": "browse",
        }
    ]

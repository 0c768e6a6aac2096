"""Airflow's login in front of the operator's view (:mod:`nazorg.operator_view.app`).

A FastAPI app that a plugin mounts on the api-server gets no authentication from
Airflow: every route that should be private must ask for it. This dependency asks
Airflow's own ``get_user`` (a bearer token wins, else the UI's ``_token`` cookie,
exactly as the core API does; Airflow's token refresh middleware runs for mounted
apps too), then the configured auth manager whether that user may ``GET`` the
custom view :data:`RESOURCE`. Without a valid login: 401; logged in without the
right: 403.

Airflow is imported when a request is authorised, not at import: the plugin is
loaded in the dag-processor and scheduler too, which never serve the page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

#: the custom view an auth manager is asked about (``is_authorized_custom_view``, method GET);
#: Airflow's SimpleAuthManager grants it to every role from viewer up
RESOURCE = "NazorgOperator"

_bearer = HTTPBearer(auto_error=False)


async def airflow_gebruiker(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Any:
    """The logged-in Airflow user allowed to see :data:`RESOURCE`."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.core_api.security import get_user

    user = await get_user(request, _oauth_token=None, bearer_credentials=bearer)
    if not get_auth_manager().is_authorized_custom_view(method="GET", resource_name=RESOURCE, user=user):
        raise HTTPException(status_code=403, detail="Forbidden")
    return user

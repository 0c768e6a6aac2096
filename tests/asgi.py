"""Requests to an ASGI app in-process through httpx (Starlette's TestClient warns about httpx)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


def vraag(app: Any, url: str, method: str = "GET", **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://airflow") as client:
            return await client.request(method, url, **kwargs)

    return asyncio.run(go())

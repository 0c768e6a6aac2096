"""The real :class:`nazorg.checks.Bronnen`: SQL over the besluit's connections, Haal Centraal over HTTP.

Connections are resolved by id (``AIRFLOW_CONN_*`` or Airflow's store), so a
real endpoint is a connection change, nothing more. Clients are created once
per task and closed with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from types import TracebackType
from typing import Any

from nazorg.connections import get_connection
from nazorg.settings import Settings
from nazorg.sources.haal_centraal import BronFout, BrpPersonenClient, ReisdocumentenClient
from nazorg.sources.sql_lookup import LookupAntwoord, run_lookup
from nazorg.store import engine_for


class LiveBronnen:
    def __init__(self, config: Settings, reisdocumenten_concurrency: int = 8) -> None:
        self._sql_dir = config.sql_dir
        self._brp: dict[str, BrpPersonenClient] = {}
        self._reis: dict[str, ReisdocumentenClient] = {}
        self._queries: dict[str, str] = {}
        self._concurrency = reisdocumenten_concurrency

    def __enter__(self) -> LiveBronnen:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        for client in [*self._brp.values(), *self._reis.values()]:
            client.close()
        self._brp.clear()
        self._reis.clear()

    @staticmethod
    def _http_settings(verbinding: str) -> dict[str, Any]:
        info = get_connection(verbinding)
        return {"base_url": info.base_url(), "api_key": info.password or None}

    def lookup(self, verbinding: str, query: str, bsns: Sequence[str]) -> dict[str, LookupAntwoord]:
        if query not in self._queries:
            self._queries[query] = (self._sql_dir / query).read_text(encoding="utf-8")
        return run_lookup(engine_for(verbinding), self._queries[query], bsns)

    def _brp_client(self, verbinding: str) -> BrpPersonenClient:
        if verbinding not in self._brp:
            self._brp[verbinding] = BrpPersonenClient(**self._http_settings(verbinding))
        return self._brp[verbinding]

    def woonadres(self, verbinding: str, bsns: Sequence[str]) -> dict[str, bool]:
        return self._brp_client(verbinding).woonadres(bsns)

    def minderjarige_kinderen(
        self, verbinding: str, bsns: Sequence[str], peildatum: date
    ) -> dict[str, bool | None]:
        return self._brp_client(verbinding).minderjarige_kinderen(bsns, peildatum)

    def geldig_id(
        self, verbinding: str, bsns: Sequence[str], peildatum: date
    ) -> dict[str, bool | Exception | None]:
        if verbinding not in self._reis:
            self._reis[verbinding] = ReisdocumentenClient(**self._http_settings(verbinding))
        client = self._reis[verbinding]
        if len(bsns) == 1:
            try:
                return {bsns[0]: client.geldig_id(bsns[0], peildatum)}
            except BronFout as exc:  # mapped to onbekend by the check
                return {bsns[0]: exc}
        return dict(client.geldig_id_many(bsns, peildatum, max_concurrency=self._concurrency))

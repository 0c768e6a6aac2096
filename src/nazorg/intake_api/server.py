"""``nazorg intake serve``: the intake API under uvicorn, as a service of its own.

Why uvicorn's access log is off: it logs the client address and the request
line, and a path can carry a melding id. :class:`nazorg.intake_api.app.Toegang`
logs sender, status, sizes and duration instead. Uvicorn's error log stays on;
it reports protocol errors without request content.
"""

from __future__ import annotations

import logging

from nazorg.settings import Settings


def serve(config: Settings, host: str | None = None, port: int | None = None) -> None:
    import uvicorn

    from nazorg.intake_api.app import app_from_settings

    app = app_from_settings(config)  # refuses a missing or bad sender configuration before binding
    server_config = uvicorn.Config(
        app,
        host=host or config.intake_host,
        port=port or config.intake_port,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        log_level="info",
        # h11 refuses a request line or headers over this before the app sees them
        h11_max_incomplete_event_size=16 * 1024,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.Server(server_config).run()

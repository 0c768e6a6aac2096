"""The hostname an embedded Celery worker reports for the task instances it runs.

Airflow records ``socket.getfqdn()`` as a task instance's hostname, the same for
every worker on one machine. The embedded supervisor starts each Celery worker
with :data:`WORKER_NAME_ENV` set and ``[core] hostname_callable`` pointing here,
so a task instance names the worker that ran it, as its Celery node name
(``w1@host``, what ``--celery-hostname w1@%h`` gives and what ``celery inspect
ping`` answers). Without the variable it is the plain hostname, as Airflow's own.

Nothing resolves that name: no worker starts a log server (``--skip-serve-logs``),
and the api-server reads task logs from the shared log folder.
"""

from __future__ import annotations

import os
import socket

WORKER_NAME_ENV = "NAZORG_CELERY_WORKER_NAME"


def hostname() -> str:
    host = socket.gethostname()
    name = os.environ.get(WORKER_NAME_ENV)
    return f"{name}@{host}" if name else host

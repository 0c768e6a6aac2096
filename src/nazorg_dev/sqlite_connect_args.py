"""Connect args for Airflow's SQLite metadata DB on the embedded default.

Airflow imports ``CONNECT_ARGS`` through ``[database] sql_alchemy_connect_args``.
A 30 s busy timeout (Python's default is 5 s) lets the api-server wait for the
scheduler's write lock instead of answering HTTP 500 "database is locked".
"""

CONNECT_ARGS: dict[str, object] = {"timeout": 30}

"""Opaque run keys: the only per-melding identifier Airflow ever sees.

Why: the sender chooses the ``melding_id``. Whatever rule screens it for BSNs
(digit runs, separators, letters between digits, other scripts' digits), a
sender can pick a disguise the rule does not foresee, and the id used to become
the DAG run id, a log folder name, an api-server log line and an outbox file
name. So nothing Airflow or the file system shows is derived from it any more:
when a melding enters the inbox the pipeline DB gives it a random key of its
own, and the run id, the run's conf, the log folders and the outbox file carry
only that key. The melding id stays where it belongs: in the pipeline DB and in
the published document, the sender's reference for the coördinator.

A key is ``r-`` plus 24 lowercase ASCII letters (about 113 random bits): no
digit at all, so it cannot hold a BSN however it is read, and it is a valid
Airflow run id and file name on every platform.
"""

from __future__ import annotations

import re
import secrets
from typing import Final

PREFIX: Final = "r-"
ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz"
LENGTH: Final = 24
RUN_KEY: Final = re.compile(rf"^{PREFIX}[a-z]{{{LENGTH}}}$")
#: the same rule as a JSON-schema pattern (the DAG's Param)
PATTERN: Final = RUN_KEY.pattern
#: the only key a run's conf may hold
CONF_KEY: Final = "run_key"


def nieuwe_run_key() -> str:
    """A fresh random key (``secrets``: unguessable, so a key reveals nothing and cannot be forged)."""
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def is_run_key(value: object) -> bool:
    return isinstance(value, str) and RUN_KEY.fullmatch(value) is not None


class OngeldigeConf(ValueError):
    """A run's conf is not exactly ``{"run_key": <key>}``.

    The message names the rule, never a key or value that was sent: a wrongly
    filled conf may hold a BSN or free text. A ``ValueError``, so Airflow's
    trigger endpoint answers 400 when it is raised while the run is created.
    """


def run_key_uit_conf(conf: object) -> str:
    """The run key of a conf that holds exactly one valid key; :class:`OngeldigeConf` otherwise."""
    if not isinstance(conf, dict) or set(conf) != {CONF_KEY}:
        raise OngeldigeConf(f"conf moet precies één sleutel hebben: {CONF_KEY}")
    value = conf[CONF_KEY]
    if not is_run_key(value):
        raise OngeldigeConf(f"conf.{CONF_KEY} heeft een ongeldig formaat")
    return str(value)

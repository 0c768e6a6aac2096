"""nazorg-intake: minimised checks after an eerstedagsmelding, guarded before publication.

The library holds all logic; ``dags/`` only wires it into Airflow. Besides the
DAG files, only :mod:`nazorg.connections` (Airflow's own connection lookup) and
the task adapter :mod:`nazorg.airflow.tasks` may import Airflow; ruff's
banned-api rule (TID251, see pyproject.toml) keeps it that way. Settings are read in
:mod:`nazorg.settings` and assembled in :mod:`nazorg.wiring`.
"""

__version__ = "0.1.0"

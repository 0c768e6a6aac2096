"""nazorg-intake: minimised checks after an eerstedagsmelding, guarded before publication.

The library holds all logic; ``dags/`` only wires it into Airflow. Nothing here
imports Airflow except :mod:`nazorg.airflow`.
"""

__version__ = "0.1.0"

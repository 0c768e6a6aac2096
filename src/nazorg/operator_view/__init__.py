"""The operator's view (issue 9 §6): how the pipeline is doing, in counts, behind Airflow's login.

Why a page of its own: an operator asks "is anything stuck or failing?" many
times a day, and the answers are spread over the inbox, the quarantine, the
outcomes' retry bookkeeping, the notifications and the retention clock. Airflow
shows runs and tasks, not these. The page shows only aggregates
(:mod:`nazorg.operator_view.tellingen`): never a melding id, a BSN, a run key, a
team or one person's outcome, and no timestamp that belongs to one melding.
Small counts are shown as they are: the readers are operators, not the public
(the monthly report, :mod:`nazorg.rapportage`, is the one that suppresses them).

The logic lives here; ``plugins/nazorg_operator.py`` only registers the FastAPI
app (:func:`nazorg.operator_view.app.maak_app`) and a menu entry with Airflow.
"""

from __future__ import annotations

#: where the plugin mounts the app on Airflow's api-server (outside its reserved prefixes)
URL_PREFIX = "/nazorg-operator"

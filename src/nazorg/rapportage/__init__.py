"""The monthly aggregate report (issue 9 §5): counts and rates per gemeente, month, check and outcome.

Submodules: :mod:`.onderdrukking` (small-cell suppression, pure),
:mod:`.tellingen` (the SQL aggregates), :mod:`.rapport` (HTML and charts).
Nothing here imports matplotlib, Jinja2 or the database at import time.
"""

"""The batch path: many meldingen per chunk through the same checks, guard and publication.

See :mod:`nazorg.batch.runner` for the steps and :mod:`nazorg.batch.resultaat`
for what a batch reports.
"""

"""The only place that knows Airflow: task bodies that bind a run's context to the library.

Imported inside tasks, never at DAG parse time, so parsing stays light.
"""

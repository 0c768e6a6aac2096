# One image for every Airflow role and the local Haal Centraal server.
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 AIRFLOW_HOME=/opt/airflow
WORKDIR /opt/nazorg
COPY requirements.txt constraints.txt pyproject.toml ./
# The Celery provider is only needed on the scale-out path, so it is not in requirements.txt.
RUN pip install -r requirements.txt -c constraints.txt \
    "apache-airflow-providers-celery==3.26.0" "celery[redis]==5.7.0"
COPY src ./src
RUN pip install --no-deps -e .
COPY plugins ./plugins
COPY dags ./dags
COPY sql ./sql
COPY register ./register
COPY expectations ./expectations
RUN useradd --create-home --uid 50000 airflow && mkdir -p /opt/airflow /var/nazorg/outbox \
    && chown -R airflow /opt/airflow /var/nazorg
USER airflow

# One image for every Airflow role and the local Haal Centraal server, built the way Airflow
# documents it: FROM the official image of the pinned Airflow version, our pinned requirements
# on top as the airflow user. The tag's version must equal apache-airflow in requirements.txt
# (`make compose-check` checks it); -python3.11 because pyproject.toml requires Python 3.11,
# the version constraints.txt was resolved and tested on. Never built here: this machine has
# no Docker engine (see README, "docker-compose").
FROM apache/airflow:3.3.2-python3.11

ENV PYTHONDONTWRITEBYTECODE=1 \
    NAZORG_PROJECT_DIR=/opt/nazorg \
    NAZORG_OUTBOX_DIR=/var/nazorg/outbox \
    NAZORG_PARQUET_DIR=/var/nazorg/parquet \
    NAZORG_RAPPORTAGE_DIR=/var/nazorg/rapportage

# owned by airflow in the image, so the named volumes mounted there (outbox, parquet, the
# SimpleAuthManager passwords file) start out owned by airflow too
USER root
RUN mkdir -p /opt/nazorg /var/nazorg/outbox /var/nazorg/parquet /var/nazorg/rapportage /opt/airflow/auth \
    && chown -R airflow:0 /opt/nazorg /var/nazorg /opt/airflow/auth \
    && chmod 0700 /var/nazorg/outbox /var/nazorg/parquet /var/nazorg/rapportage /opt/airflow/auth
USER airflow
WORKDIR /opt/nazorg

# every dependency pinned: requirements.txt (direct, incl. apache-airflow and the Celery
# provider) under constraints.txt (the full resolved set CI tested)
COPY --chown=airflow:0 requirements.txt constraints.txt ./
RUN pip install --no-cache-dir -r requirements.txt -c constraints.txt

# the project itself, without letting pip touch a dependency
COPY --chown=airflow:0 pyproject.toml ./
COPY --chown=airflow:0 src ./src
RUN pip install --no-cache-dir --no-deps .

COPY --chown=airflow:0 plugins ./plugins
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 sql ./sql
COPY --chown=airflow:0 register ./register
COPY --chown=airflow:0 expectations ./expectations
COPY --chown=airflow:0 api ./api

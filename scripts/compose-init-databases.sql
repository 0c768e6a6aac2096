-- Extra databases next to Airflow's metadata DB (run once by the postgres image).
CREATE DATABASE nazorg;
CREATE DATABASE bronnen;

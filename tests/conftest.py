"""Shared fixtures. Every person here is synthetic: 999-series BSNs that pass the elfproef."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: A fixed key for tests (not a secret: it protects synthetic people only), strong by the
#: key rule of nazorg.sleutel: 64 random hex digits, as `nazorg sleutel genereer` prints.
TEST_KEY = "886f3c94e0ccfdd8539359489405b3ee1a065eb1446c76b6f214f4242bd96816"

os.environ.setdefault("NAZORG_PSEUDONIEM_SLEUTEL", TEST_KEY)
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")


def postgres_url() -> str:
    return os.environ.get("NAZORG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def postgres_available(url: str) -> tuple[bool, str]:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True, ""
    except Exception as exc:  # any failure means: not reachable
        return False, type(exc).__name__


def require_postgres() -> str:
    """Skip where no PostgreSQL runs; with CI=true a missing PostgreSQL fails the run."""
    url = postgres_url()
    ok, why = postgres_available(url)
    if not ok:
        message = f"PostgreSQL not reachable at NAZORG_TEST_POSTGRES_URL ({why})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " and CI=true: PostgreSQL tests must run in CI")
        pytest.skip(message)
    return url


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database; dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = require_postgres()
    name = f"nazorg_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        from nazorg.store import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def fresh_postgres_db() -> Iterator[str]:
    """A new, empty database for one test; dropped afterwards."""
    with postgres_database() as url:
        yield url


@pytest.fixture
def fresh_postgres_bronnen_db() -> Iterator[str]:
    """A second new database, for the source systems: a lookup never reads the pipeline DB."""
    with postgres_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'nazorg.db'}"


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgres", marks=pytest.mark.integration),
    ]
)
def empty_pipeline_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """An engine on an empty pipeline DB (no schema yet), once on SQLite and once on PostgreSQL."""
    from nazorg.store import dispose_engines, make_engine

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'nazorg.db'}"
    else:
        url = request.getfixturevalue("fresh_postgres_db")
    engine = make_engine(url)
    yield engine
    engine.dispose()
    dispose_engines()  # forget this URL's schema check


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Each test reads settings and builds its runtime from its own environment."""
    from nazorg import wiring
    from nazorg.settings import reload_settings

    reload_settings()
    wiring.reset()
    yield
    reload_settings()
    wiring.reset()


@pytest.fixture(scope="module")
def hc_server() -> Iterator[object]:
    """The local Haal Centraal server over real HTTP, one per test module (tests fault it)."""
    from nazorg_dev.sim.haal_centraal import HaalCentraalSimServer

    server = HaalCentraalSimServer(port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sqlite_bronnen(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The simulated source systems of the default population, in SQLite, one per test module."""
    from nazorg.store import make_engine
    from nazorg_dev.sim.bronnen import vul_bronnen
    from nazorg_dev.sim.population import population

    url = f"sqlite:///{tmp_path_factory.mktemp('bronnen') / 'bronnen.db'}"
    engine = make_engine(url)
    vul_bronnen(engine, population(), 1)
    engine.dispose()
    return url

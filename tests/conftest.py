"""Shared fixtures. `store` and `settings` run every test that uses them twice: on SQLite and on
PostgreSQL (a real server: SEAWALL_TEST_PG_URL, started by scripts/test.sh)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from seawall.config import Settings, load_settings
from seawall.storage.schema import metadata
from seawall.storage.sql import open_store

PG_URL = os.environ.get("SEAWALL_TEST_PG_URL")
SHARED_DATA = Path(os.environ.get("SEAWALL_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


def _reset_pg_schema(url: str) -> None:
    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with eng.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    eng.dispose()


@pytest.fixture(scope="session")
def pg_url() -> str:
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (SEAWALL_TEST_PG_URL); scripts/test.sh starts one")
    _reset_pg_schema(PG_URL)
    store = open_store(PG_URL)  # migrates once for the session
    store.close()
    return PG_URL


def _truncate(store) -> None:  # noqa: ANN001
    names = ", ".join(t.name for t in metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'seawall.db'}"
    url = request.getfixturevalue("pg_url")
    store = open_store(url, migrate=False)
    _truncate(store)
    store.close()
    return url


@pytest.fixture
def store(database_url: str):  # noqa: ANN201
    s = open_store(database_url)
    yield s
    s.close()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    home = tmp_path / "home"
    monkeypatch.setenv("SEAWALL_HOME", str(home))
    monkeypatch.setenv("SEAWALL_DATABASE_URL", database_url)
    return load_settings()

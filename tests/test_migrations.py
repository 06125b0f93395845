"""Migrations: empty -> head -> base on SQLite and PostgreSQL, and the models match the migrated schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from forum.cli import MIGRATIONS
from forum.db import make_engine
from forum.models import Base
from tests import services


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    services.need("PostgreSQL", services.postgres_available())
    admin = make_url(services.POSTGRES_ADMIN_URL).set(drivername="postgresql+psycopg")
    name = f"haven_migrate_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin.set(database=name).render_as_string(hide_password=False)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _alembic(url: str, connection: object) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["connection"] = connection
    return cfg


def test_upgrade_matches_models_and_downgrade_empties(empty_database: str) -> None:
    engine = make_engine(empty_database)
    with engine.begin() as conn:
        command.upgrade(_alembic(empty_database, conn), "head")
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
    with engine.begin() as conn:
        command.downgrade(_alembic(empty_database, conn), "base")
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_cli_upgrade_then_seed_is_idempotent(tmp_path: Path) -> None:
    from forum import create_app

    app = create_app({"HAVEN_ENV": "test", "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    first = runner.invoke(args=["seed"])
    second = runner.invoke(args=["seed"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "created 0 rooms and 0 watched words" in second.output
    assert "created 0 rooms" not in first.output

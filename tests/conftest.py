"""Fixtures: an app from the factory with a fresh database per test, role fixtures built
through the real actions, logged-in clients, and a recorder of socket events.

The backend is SQLite unless HAVEN_TEST_DATABASE=postgresql, in which case each test
session creates its own PostgreSQL database and every test starts from empty tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from forum import create_app, events
from forum.db import db
from forum.models import Base
from tests import services

BACKEND = os.environ.get("HAVEN_TEST_DATABASE", "sqlite")
PASSWORD = "calm harbor lantern 42"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A brand-new PostgreSQL database for this test session, dropped afterwards."""
    services.need("PostgreSQL", services.postgres_available())
    admin = make_url(services.POSTGRES_ADMIN_URL).set(drivername="postgresql+psycopg")
    name = f"haven_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.set(database=name)
    schema_engine = create_engine(url)
    Base.metadata.create_all(schema_engine)
    schema_engine.dispose()
    yield url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if BACKEND == "postgresql":
        url = request.getfixturevalue("postgres_url")
        yield url
        engine = create_engine(url)
        with engine.begin() as conn:
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
    else:
        yield f"sqlite:///{tmp_path / 'haven.db'}"


def make_app(database_url: str, **overrides: object) -> Flask:
    app = create_app({"HAVEN_ENV": "test", "DATABASE_URL": database_url, **overrides})
    with app.app_context():
        assert db.engine is not None
        if database_url.startswith("sqlite"):
            Base.metadata.create_all(db.engine)
        from forum.cli import seed

        seed(db.session)
        db.session.commit()
    return app


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = make_app(database_url)
    yield app
    with app.app_context():
        assert db.engine is not None
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class Account:
    id: int
    pseudonym: str
    password: str
    path: str
    role: str
    recovery_code: str


def register(app: Flask, pseudonym: str, path: str = "partner", role: str = "member",
             password: str = PASSWORD) -> Account:
    """Create a member through the real sign-up action."""
    from forum.accounts.actions import do_register

    with app.app_context():
        member, code = do_register(db.session, pseudonym=pseudonym, password=password, path=path,
                                   accepted_guidelines=True, role=role)
        # Past the new-member review by default; tests of that rule make members with 0.
        member.published_posts = app.config["NEW_MEMBER_HELD_POSTS"]
        db.session.commit()
        return Account(member.id, member.pseudonym, password, path, role, code)


def login(client: FlaskClient, account: Account) -> FlaskClient:
    response = client.post("/login", data={"pseudonym": account.pseudonym, "password": account.password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def partner(app: Flask) -> Account:
    return register(app, "Quiet Harbor 11", "partner")


@pytest.fixture
def other_partner(app: Flask) -> Account:
    return register(app, "Gentle Cedar 12", "partner")


@pytest.fixture
def recovering(app: Flask) -> Account:
    return register(app, "Steady River 21", "recovery")


@pytest.fixture
def moderator(app: Flask) -> Account:
    return register(app, "Calm Lantern 31", "recovery", role="moderator")


@pytest.fixture
def partner_client(app: Flask, partner: Account) -> FlaskClient:
    return login(app.test_client(), partner)


@pytest.fixture
def other_partner_client(app: Flask, other_partner: Account) -> FlaskClient:
    return login(app.test_client(), other_partner)


@pytest.fixture
def recovery_client(app: Flask, recovering: Account) -> FlaskClient:
    return login(app.test_client(), recovering)


@pytest.fixture
def moderator_client(app: Flask, moderator: Account) -> FlaskClient:
    return login(app.test_client(), moderator)


@dataclass
class SentEvent:
    name: str
    payload: dict
    to: str
    namespace: str


@pytest.fixture
def sent_events(app: Flask) -> Iterator[list[SentEvent]]:
    """Every socket event that left after a commit, in order (still delivered as usual)."""
    recorded: list[SentEvent] = []
    original = events._deliver

    def record(ev: events.Event) -> None:
        recorded.append(SentEvent(ev.name, ev.payload, ev.to, ev.namespace))
        original(ev)

    events.bind(record)
    yield recorded
    events.bind(original)

"""GET /healthz: what a load balancer or uptime monitor asks."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forum import create_app
from forum.db import db
from tests.conftest import Account, login
from tests.test_security import assert_security_headers

BROKEN_DATABASES = {
    "sqlite-missing-directory": "sqlite:///{tmp}/no/such/directory/haven.db",
    "postgresql-refused": "postgresql://postgres@127.0.0.1:1/haven",
}


def test_healthy(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert response.mimetype == "application/json"
    assert_security_headers(response)
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("url", BROKEN_DATABASES.values(), ids=list(BROKEN_DATABASES))
def test_unreachable_database_answers_503_naming_it(url: str, tmp_path: Path) -> None:
    app = create_app({"HAVEN_ENV": "test", "DATABASE_URL": url.format(tmp=tmp_path)})
    try:
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] != "ok" and body["database"] != "ok"
        assert set(body) == {"status", "database"}
        assert_security_headers(response)
    finally:
        assert db.engine is not None
        db.engine.dispose()


def test_database_going_away_mid_session(app: Flask, partner: Account, tmp_path: Path) -> None:
    """A member whose database goes away is told Haven is unavailable (503), never shown a trace."""
    client = login(app.test_client(), partner)
    broken = create_app({"HAVEN_ENV": "test", "DATABASE_URL": f"sqlite:///{tmp_path}/gone/haven.db"})
    try:
        for target in (client, broken.test_client()):
            response = target.get("/rooms")
            assert response.status_code in (302, 503)
            assert_security_headers(response)
        response = broken.test_client().get("/healthz")
        assert response.status_code == 503
        # The same browser, with its session cookie, on the broken deployment.
        cookie = client.get_cookie("haven_session")
        assert cookie is not None
        member = broken.test_client()
        member.set_cookie("haven_session", cookie.value)
        response = member.get("/rooms")
        assert response.status_code == 503
        assert_security_headers(response)
        assert "briefly unavailable" in response.get_data(as_text=True)
        assert member.get("/healthz").get_json()["database"] != "ok"
    finally:
        assert db.engine is not None
        db.engine.dispose()


def _backend_pid(app: Flask) -> int:
    """The server process behind the app's pooled connection (a test client reuses the one)."""
    with app.app_context():
        assert db.engine is not None
        with db.engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _drop_connection(pid: int) -> None:
    """What a PostgreSQL restart does to a pooled connection: the server ends it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tests import services

    admin = create_engine(make_url(services.POSTGRES_ADMIN_URL).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    admin.dispose()


def test_a_pooled_connection_the_database_dropped_is_replaced(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Idle pooled connections are checked before a request gets one (forum.db.PING_AFTER_IDLE):
    one the server ended is replaced and the request succeeds. One given back a moment ago is
    not checked: if the server ended it meanwhile, that one request answers 503, and the next
    gets a new connection."""
    app = create_app({"HAVEN_ENV": "test", "DATABASE_URL": postgres_url})
    client = app.test_client()
    try:
        assert client.get("/healthz").status_code == 200
        _drop_connection(_backend_pid(app))
        monkeypatch.setattr("forum.db.PING_AFTER_IDLE", 0.0)  # as if idle for a while
        assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}

        monkeypatch.setattr("forum.db.PING_AFTER_IDLE", 3600.0)  # as if given back a moment ago
        _drop_connection(_backend_pid(app))
        assert client.get("/healthz").status_code == 503
        assert client.get("/healthz").status_code == 200
    finally:
        assert db.engine is not None
        db.engine.dispose()

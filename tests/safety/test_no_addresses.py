"""No client address is stored or logged; logs carry no message text and no pseudonym (not even
inside an exception's message); the address hash used for rate limits changes with every
rotation period."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forum import privacy
from forum.db import db
from forum.extensions import limiter, socketio
from forum.logs import scrub
from forum.rooms.models import Room
from tests.conftest import PASSWORD, make_app
from tests.safety.conftest import rows_containing

CLIENT = "203.0.113.77"
PROXY = "198.51.100.23"
PSEUDONYM = "Amber Willow 44"
POST_TEXT = "a sentence nobody else would write about the blue kettle"
CHAT_TEXT = "a chat line about the green lighthouse"


@pytest.fixture
def proxied_app(database_url: str) -> Iterator[Flask]:
    """Behind one proxy, as in production: the client's address arrives in X-Forwarded-For."""
    app = make_app(database_url, TRUST_PROXY_HOPS=1)

    @app.get("/test-only/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError(f"failed while serving {request.remote_addr}")

    @app.get("/test-only/database-error")
    def database_error():  # type: ignore[no-untyped-def]
        # What a failed write looks like: the statement's parameters and the database's own
        # message both quote what the member wrote.
        try:
            raise ValueError(f"DETAIL: Key (pseudonym_key)=({PSEUDONYM.lower()}) already exists")
        except ValueError as orig:
            raise IntegrityError("INSERT INTO post (body_source) VALUES (?)", {"body": POST_TEXT}, orig) from orig

    yield app
    with app.app_context():
        assert db.engine is not None
        db.engine.dispose()


def _all_log_text(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(r) + " " + repr(r.args) for r in records)


def test_a_run_of_requests_leaves_no_address_text_or_pseudonym_in_logs_or_database(
        proxied_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = proxied_app
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": CLIENT})

    signup = client.post("/signup", data={"pseudonym": PSEUDONYM, "password": PASSWORD, "path": "partner",
                                          "guidelines": "yes"})
    assert signup.status_code == 200
    client.post("/logout")
    assert client.post("/login", data={"pseudonym": PSEUDONYM, "password": PASSWORD}).status_code == 302
    created = client.post("/rooms/just-found-out/threads", data={
        "title": "Kettle", "body": POST_TEXT, "submit_key": "no-address-1", "confirmed": "yes"})
    assert created.status_code == 302
    thread_page = client.get(created.headers["Location"])
    assert thread_page.status_code == 200

    with app.app_context():
        room_id = db.session.scalars(select(Room.id).where(Room.slug == "just-found-out")).one()
    sock = socketio.test_client(app, flask_test_client=client)
    assert sock.is_connected()
    assert sock.emit("join", {"room_id": room_id}, callback=True)["ok"]
    assert sock.emit("send", {"room_id": room_id, "body": CHAT_TEXT, "client_id": "chat-client-1",
                              "confirmed": True}, callback=True)["ok"]
    sock.disconnect()

    assert client.get("/no-such-page").status_code == 404
    assert client.get("/threads/99999").status_code == 404
    assert client.post("/rooms").status_code == 405
    assert client.get("/test-only/boom").status_code == 500
    assert client.get("/test-only/database-error").status_code == 500
    client.post("/logout")
    statuses = [client.post("/login", data={"pseudonym": PSEUDONYM, "password": "wrong password 123"}).status_code
                for _ in range(12)]
    assert statuses[-1] == 429

    records = caplog.records
    assert any("unhandled error" in r.getMessage() for r in records)  # the capture works
    text = _all_log_text(records)
    for secret in (CLIENT, PROXY, PSEUDONYM, PSEUDONYM.lower(), POST_TEXT, CHAT_TEXT):
        assert secret not in text, secret
    # The tracebacks are there (where it failed, and what kind of error), their messages not.
    assert "builtins.RuntimeError (message withheld)" in text and "in boom" in text
    assert "sqlalchemy.exc.IntegrityError (message withheld)" in text
    assert "builtins.ValueError (message withheld)" in text  # the chained cause too

    for address in (CLIENT, PROXY):
        assert rows_containing(app, address) == []
    storage = limiter.storage
    keys = " ".join(list(getattr(storage, "storage", {})) + list(getattr(storage, "events", {})))
    assert keys and CLIENT not in keys and PROXY not in keys


def test_address_hash_is_keyed_and_rotates(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    day_one = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with app.test_request_context(environ_base={"REMOTE_ADDR": CLIENT}):
        monkeypatch.setattr(privacy, "utcnow", lambda: day_one)
        first = privacy.client_key()
        assert CLIENT not in first and len(first) == 32
        assert privacy.hash_address(CLIENT) == first
        assert privacy.hash_address("203.0.113.78") != first
        monkeypatch.setattr(privacy, "utcnow", lambda: day_one + timedelta(hours=10))
        assert privacy.client_key() == first  # the same day: recognised, so rate limits work
        monkeypatch.setattr(privacy, "utcnow", lambda: day_one + timedelta(days=1))
        assert privacy.client_key() != first  # the next day: unlinkable to yesterday's
        app.config["SECRET_KEY"] = "another-deployment"
        monkeypatch.setattr(privacy, "utcnow", lambda: day_one)
        assert privacy.client_key() != first  # and never the same across deployments


def test_scrub_masks_addresses_but_not_times_or_versions() -> None:
    assert scrub(f"from {CLIENT}:5000 at 12:30:45") == "from [address]:5000 at 12:30:45"
    assert scrub("client 2001:db8::8a2e:370:7334 and ::1") == "client [address] and [address]"
    assert scrub("version 1.2.3 done") == "version 1.2.3 done"


def test_records_from_any_logger_are_masked_before_any_handler(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    """A handler added after start-up (a library's, a server's) gets masked records too."""
    collected: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            collected.append(record.getMessage())

    library = logging.getLogger("some.library.added.later")
    library.propagate = False
    library.addHandler(Collect())
    library.warning("connection from %s dropped", CLIENT)
    assert collected == ["connection from [address] dropped"]

    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine.Engine").info("SELECT with %s", PSEUDONYM)  # pinned to WARNING
    assert PSEUDONYM not in caplog.text

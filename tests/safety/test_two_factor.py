"""Moderators' second factor: with REQUIRE_MODERATOR_TOTP on, no moderation page works until
the moderator has enrolled an authenticator app and entered a current code in this session;
moderation also needs a log-in from the last MODERATOR_REAUTH_HOURS."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from flask import Flask, session
from flask.testing import FlaskClient

from forum import permissions
from forum.accounts.models import Member
from forum.db import db, utcnow
from forum.safety import twofactor
from tests.conftest import Account, login, make_app, register
from tests.safety.conftest import start_thread


@pytest.fixture
def strict_app(database_url: str) -> Iterator[Flask]:
    app = make_app(database_url, REQUIRE_MODERATOR_TOTP=True)
    yield app
    with app.app_context():
        assert db.engine is not None
        db.engine.dispose()


@pytest.fixture
def mod(strict_app: Flask) -> Account:
    return register(strict_app, "Calm Lantern 31", "recovery", role="moderator")


def _secret_on_page(html: str) -> str:
    match = re.search(r'id="totp-secret">([A-Z2-7]+)<', html)
    assert match, html
    return match.group(1)


def _enrol(client: FlaskClient) -> str:
    secret = _secret_on_page(client.get("/account/two-factor").get_data(as_text=True))
    response = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    return secret


def test_moderation_pages_refuse_a_moderator_without_a_second_factor(strict_app: Flask, mod: Account) -> None:
    client = login(strict_app.test_client(), mod)
    for path in ("/moderation", "/moderation/words", "/moderation/log"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor", path
    assert client.post("/moderation/words", data={"phrase": "x", "action": "hold"}).status_code == 302

    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = _secret_on_page(page)
    assert '<img class="qr" src="/account/two-factor/qr.svg"' in page
    qr = client.get("/account/two-factor/qr.svg")
    assert qr.mimetype == "image/svg+xml" and b"<svg" in qr.data and b"style=" not in qr.data
    assert b"<script" not in qr.data

    wrong = client.post("/account/two-factor", data={"code": "000000" if pyotp.TOTP(secret).now() != "000000"
                                                      else "111111"})
    assert wrong.status_code == 400 and client.get("/moderation").status_code == 302
    assert client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert client.get("/moderation").status_code == 200
    with strict_app.app_context():
        member = db.session.get_one(Member, mod.id)
        assert member.totp_secret == secret and member.totp_confirmed_at is not None


def test_each_log_in_asks_for_a_code_before_moderation(strict_app: Flask, mod: Account) -> None:
    secret = _enrol(login(strict_app.test_client(), mod))
    client = login(strict_app.test_client(), mod)
    response = client.get("/moderation")
    assert response.status_code == 302 and response.headers["Location"].startswith("/account/two-factor/verify")
    assert client.get("/rooms").status_code == 200  # the rest of Haven works as usual
    assert client.post("/account/two-factor/verify", data={"code": "12 34 56x", "next": "/moderation"}).status_code == 400
    assert client.get("/moderation").status_code == 302
    # The enrolment used the current code, so this log-in uses the next one (accepted: clocks drift).
    code = pyotp.TOTP(secret).at(time.time() + 30)
    ok = client.post("/account/two-factor/verify", data={"code": code, "next": "/moderation"})
    assert ok.status_code == 302 and ok.headers["Location"] == "/moderation"
    assert client.get("/moderation").status_code == 200
    # The same code can't be replayed in another session while it is still valid.
    replay = login(strict_app.test_client(), mod).post("/account/two-factor/verify", data={"code": code})
    assert replay.status_code == 400 and "just used" in replay.get_data(as_text=True)
    # Enrolled: the page no longer shows a secret, and the QR code is gone.
    assert "totp-secret" not in client.get("/account/two-factor").get_data(as_text=True)
    assert client.get("/account/two-factor/qr.svg").status_code == 404


def test_content_warning_control_needs_the_second_factor_too(strict_app: Flask, mod: Account) -> None:
    author = register(strict_app, "Steady River 21", "recovery")
    made = start_thread(strict_app, author, "Hello", "Words.")
    client = login(strict_app.test_client(), mod)
    assert f"/posts/{made.post_id}/warning" not in client.get(f"/threads/{made.thread_id}").get_data(as_text=True)
    assert client.post(f"/posts/{made.post_id}/warning", data={"content_warning": "Relapse"}).status_code == 302
    _enrol(client)
    assert f"/posts/{made.post_id}/warning" in client.get(f"/threads/{made.thread_id}").get_data(as_text=True)


def test_codes_cannot_be_guessed_quickly(strict_app: Flask, mod: Account) -> None:
    _enrol(login(strict_app.test_client(), mod))
    client = login(strict_app.test_client(), mod)
    statuses = [client.post("/account/two-factor/verify", data={"code": f"{n:06d}"}).status_code for n in range(11)]
    assert statuses[-1] == 429 and 429 not in statuses[:10]


def test_moderation_needs_a_recent_log_in(app: Flask, moderator: Account, moderator_client: FlaskClient,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    assert moderator_client.get("/moderation").status_code == 200
    later = utcnow() + timedelta(hours=app.config["MODERATOR_REAUTH_HOURS"], minutes=1)
    monkeypatch.setattr(twofactor, "utcnow", lambda: later)
    response = moderator_client.get("/moderation")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert moderator_client.get("/rooms").headers["Location"].startswith("/login")  # logged out
    monkeypatch.undo()
    login(moderator_client, moderator)
    assert moderator_client.get("/moderation").status_code == 200


def test_members_have_no_two_factor_pages(partner_client: FlaskClient, client: FlaskClient) -> None:
    for path in ("/account/two-factor", "/account/two-factor/qr.svg", "/account/two-factor/verify"):
        assert partner_client.get(path).status_code == 404, path
        assert client.get(path).status_code == 302, path  # visitors: log in first


def test_moderator_verified_predicate_for_socket_handlers(strict_app: Flask, mod: Account) -> None:
    with strict_app.test_request_context(method="POST"):
        member = db.session.get_one(Member, mod.id)
        session["login_at"] = utcnow().isoformat()
        assert not twofactor.moderator_verified(member)
        member.totp_secret, member.totp_confirmed_at = pyotp.random_base32(), utcnow()
        assert twofactor.missing_step(member) == "code"
        twofactor.mark_verified()
        assert twofactor.moderator_verified(member) and permissions.can_moderate(member)
        session["login_at"] = (utcnow() - timedelta(hours=13)).isoformat()
        assert twofactor.missing_step(member) == "reauth"
        member.role = "member"
        assert twofactor.missing_step(member) == "not_moderator"
        db.session.rollback()
    with strict_app.app_context():  # no request, no session: nobody is verified
        assert not permissions.can_moderate(db.session.get_one(Member, mod.id))


def test_the_other_audience_opens_only_after_the_second_factor(strict_app: Flask, mod: Account) -> None:
    """A moderator's password alone shows what any member of their path sees: the partner rooms,
    their threads and their chat stay closed until the code is entered in this session."""
    from forum.extensions import socketio
    from tests.chat.conftest import PARTNER_ROOM, room_id

    partner = register(strict_app, "Quiet Harbor 11", "partner")
    thread_id = start_thread(strict_app, partner, "Partners only", "Something private.").thread_id
    client = login(strict_app.test_client(), mod)
    assert client.get(f"/rooms/{PARTNER_ROOM}").status_code == 404
    assert client.get(f"/threads/{thread_id}").status_code == 404
    assert f"/rooms/{PARTNER_ROOM}" not in client.get("/rooms").get_data(as_text=True)
    assert "/rooms/early-days" in client.get("/rooms").get_data(as_text=True)  # their own path's rooms
    sock = socketio.test_client(strict_app, flask_test_client=client)
    refused = sock.emit("join", {"room_id": room_id(strict_app, PARTNER_ROOM)}, callback=True)
    assert refused["ok"] is False and refused["code"] == "not_found"

    _enrol(client)  # enrolling enters a first code for this session
    assert client.get(f"/rooms/{PARTNER_ROOM}").status_code == 200
    assert client.get(f"/threads/{thread_id}").status_code == 200
    assert sock.emit("join", {"room_id": room_id(strict_app, PARTNER_ROOM)}, callback=True)["ok"] is True
    sock.disconnect()

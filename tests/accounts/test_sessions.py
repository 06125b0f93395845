"""Sessions that leak nothing: the cookie is an opaque random id; everything else stays on the server."""

from __future__ import annotations

import base64
import json
import re
import zlib
from datetime import timedelta

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from itsdangerous import BadSignature
from sqlalchemy import delete, select, update

import config
from forum import create_app, sessions
from forum.accounts.models import Member, WebSession
from forum.db import db, utcnow
from forum.sessions import hash_session_id
from tests.accounts.pages import form_posting_to
from tests.conftest import Account, login, make_app, register

COOKIE = "haven_session"
OPAQUE_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 32 random bytes, base64url, nothing else


def cookie_value(client: FlaskClient, name: str = COOKIE, domain: str = "localhost") -> str | None:
    cookie = client.get_cookie(name, domain=domain)
    return cookie.value if cookie else None


def session_rows(app: Flask, member_id: int | None = None) -> list[WebSession]:
    with app.app_context():
        stmt = select(WebSession)
        if member_id is not None:
            stmt = stmt.where(WebSession.member_id == member_id)
        return list(db.session.scalars(stmt))


def test_cookie_is_only_an_opaque_random_id(app: Flask, partner_client: FlaskClient, partner: Account) -> None:
    value = cookie_value(partner_client)
    assert value is not None and OPAQUE_ID.match(value)
    assert "." not in value  # not an itsdangerous "payload.timestamp.signature" cookie
    raw = base64.urlsafe_b64decode(value + "=")
    assert len(raw) == 32
    with app.app_context():
        member = db.session.get(Member, partner.id)
        assert member is not None
        secrets_of_member = [member.pseudonym, member.auth_token, member.path]
    for secret in secrets_of_member:
        assert secret not in value
        assert secret.encode() not in raw
    # Nothing decodable: not a Flask signed session, not JSON, not compressed data.
    flask_cookie = SecureCookieSessionInterface().get_signing_serializer(app)
    assert flask_cookie is not None
    with pytest.raises(BadSignature):
        flask_cookie.loads(value)
    with pytest.raises(ValueError):
        json.loads(raw)
    with pytest.raises(zlib.error):
        zlib.decompress(raw)
    # Two log-ins of the same member share nothing.
    again = login(app.test_client(), partner)
    assert cookie_value(again) != value
    # The server keeps only the SHA-256 of the id: the table can't be replayed as a cookie.
    rows = session_rows(app, partner.id)
    assert hash_session_id(value) in [r.id_hash for r in rows]
    assert value not in str([(r.id_hash, r.data) for r in rows])


def test_no_other_cookie_is_set(partner_client: FlaskClient) -> None:
    partner_client.get("/rooms")
    partner_client.get("/account")
    assert {c.key for c in (partner_client._cookies or {}).values()} == {COOKIE}


def test_session_data_holds_the_random_token_and_no_address_hash(app: Flask, partner: Account) -> None:
    client = app.test_client()
    client.get("/login")
    login(client, partner)
    client.get("/rooms")
    (row,) = session_rows(app, partner.id)
    with app.app_context():
        member = db.session.get(Member, partner.id)
        assert member is not None
        assert member.get_id() == member.auth_token != str(member.id)
        assert len(member.auth_token) >= 40
    assert row.data["_user_id"] == member.auth_token
    assert "_id" not in row.data  # Flask-Login's hash of IP address and browser
    assert set(row.data) <= {"_user_id", "_fresh", "login_at", "csrf_token", "_flashes"}


def test_address_hash_is_never_stored_even_if_flask_login_sets_it(app: Flask, partner: Account) -> None:
    """confirm_login() and other Flask-Login paths write ``_id``; the store refuses to keep it."""
    from flask_login import confirm_login

    app.add_url_rule("/test-confirm", "test_confirm", lambda: (confirm_login(), "ok")[1])
    client = login(app.test_client(), partner)
    assert client.get("/test-confirm").status_code == 200
    (row,) = session_rows(app, partner.id)
    assert "_id" not in row.data


def test_new_session_id_at_login(app: Flask, partner: Account) -> None:
    client = app.test_client()
    client.get("/login")  # a visitor session (it holds the log-in form's CSRF token)
    before = cookie_value(client)
    assert before is not None
    login(client, partner)
    after = cookie_value(client)
    assert after is not None and after != before
    assert hash_session_id(before) not in {r.id_hash for r in session_rows(app)}
    # Whoever knew the pre-log-in id has nothing.
    fixated = app.test_client()
    fixated.set_cookie(COOKIE, before)
    assert fixated.get("/rooms").status_code == 302


def test_new_session_id_at_signup_and_at_recovery(app: Flask, partner: Account) -> None:
    """Sign-up and a recovery reset log the member in too: each on a new id, the visitor's id dead."""
    def sign_up(client: FlaskClient) -> int:
        return client.post("/signup", data={"pseudonym": "Open Meadow 23", "password": "slow tide over stones",
                                            "path": "partner", "guidelines": "yes"}).status_code

    def recover(client: FlaskClient) -> int:
        return client.post("/recover", data={"pseudonym": partner.pseudonym, "recovery_code": partner.recovery_code,
                                             "new_password": "a brand new lighthouse"}).status_code

    for step in (sign_up, recover):
        client = app.test_client()
        client.get("/signup" if step is sign_up else "/recover")
        before = cookie_value(client)
        assert before is not None
        assert step(client) == 200
        after = cookie_value(client)
        assert after is not None and after != before and OPAQUE_ID.match(after)
        assert hash_session_id(before) not in {r.id_hash for r in session_rows(app)}
        assert client.get("/rooms").status_code == 200
        fixated = app.test_client()
        fixated.set_cookie(COOKIE, before)
        assert fixated.get("/rooms").status_code == 302, step.__name__


def test_planted_session_id_is_never_adopted(app: Flask, partner: Account) -> None:
    client = app.test_client()
    client.set_cookie(COOKIE, "attacker-chosen-id")
    login(client, partner)
    assert cookie_value(client) != "attacker-chosen-id"
    assert OPAQUE_ID.match(cookie_value(client) or "")


def test_logout_ends_the_session_on_the_server(app: Flask, partner_client: FlaskClient, partner: Account) -> None:
    old = cookie_value(partner_client)
    assert old is not None
    response = partner_client.post("/logout")
    assert "Clear-Site-Data" in response.headers
    assert f"{COOKIE}=;" in response.headers["Set-Cookie"] and "Expires=Thu, 01 Jan 1970" in response.headers["Set-Cookie"]
    assert session_rows(app, partner.id) == []
    replay = app.test_client()
    replay.set_cookie(COOKIE, old)
    response = replay.get("/rooms")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_password_change_ends_every_other_session(app: Flask, partner: Account) -> None:
    here, elsewhere = login(app.test_client(), partner), login(app.test_client(), partner)
    old_here = cookie_value(here)
    assert len(session_rows(app, partner.id)) == 2
    response = here.post("/account/password", data={"current_password": partner.password,
                                                    "new_password": "a brand new lighthouse"})
    assert response.status_code == 200
    assert elsewhere.get("/rooms").status_code == 302  # logged out
    assert here.get("/rooms").status_code == 200  # still in, on a fresh session
    assert cookie_value(here) != old_here
    assert len(session_rows(app, partner.id)) == 1


def test_recovery_reset_ends_every_session(app: Flask, partner: Account) -> None:
    elsewhere = login(app.test_client(), partner)
    response = app.test_client().post("/recover", data={
        "pseudonym": partner.pseudonym, "recovery_code": partner.recovery_code,
        "new_password": "a brand new lighthouse"})
    assert response.status_code == 200
    assert elsewhere.get("/rooms").status_code == 302


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(sessions, "utcnow", clock)
    return clock


def test_session_ends_after_idle_timeout(app: Flask, partner: Account, clock: Clock) -> None:
    client = login(app.test_client(), partner)
    idle = app.config["SESSION_IDLE_TIMEOUT"]
    assert idle == timedelta(minutes=30)
    clock.now += idle - timedelta(minutes=1)
    assert client.get("/rooms").status_code == 200  # activity keeps it alive...
    clock.now += idle - timedelta(minutes=1)
    assert client.get("/rooms").status_code == 200
    clock.now += idle + timedelta(seconds=1)  # ...but not a pause longer than the idle timeout
    response = client.get("/rooms")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert session_rows(app, partner.id) == []


def test_session_ends_after_max_age_even_when_active(database_url: str, clock: Clock) -> None:
    app = make_app(database_url, SESSION_MAX_AGE=timedelta(hours=1), SESSION_IDLE_TIMEOUT=timedelta(minutes=30))
    account = register(app, "Steady Lark 44")
    client = login(app.test_client(), account)
    for _ in range(3):  # active every 20 minutes for an hour
        clock.now += timedelta(minutes=20)
        assert client.get("/rooms").status_code == 200
    clock.now += timedelta(minutes=1)
    assert client.get("/rooms").status_code == 302


def test_default_lifetimes_are_30_minutes_idle_and_12_hours(app: Flask, partner: Account) -> None:
    assert app.config["SESSION_MAX_AGE"] == timedelta(hours=12)
    client = login(app.test_client(), partner)
    with app.app_context():
        db.session.execute(update(WebSession).values(created_at=utcnow() - timedelta(hours=12, minutes=1)))
        db.session.commit()
    assert client.get("/rooms").status_code == 302


def test_cookie_flags_in_development_and_test(partner: Account, app: Flask) -> None:
    client = app.test_client()
    response = client.post("/login", data={"pseudonym": partner.pseudonym, "password": partner.password})
    header = response.headers["Set-Cookie"]
    assert header.startswith(f"{COOKIE}=") and "HttpOnly" in header and "SameSite=Lax" in header
    assert "Expires" not in header  # gone when the browser closes


def test_remember_me_is_off_unless_enabled(client: FlaskClient, partner: Account) -> None:
    response = client.post("/login", data={"pseudonym": partner.pseudonym, "password": partner.password,
                                           "remember": "yes"})
    assert response.status_code == 302
    assert [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token")] == []


def test_remember_me_when_enabled_holds_no_row_id(database_url: str) -> None:
    app = make_app(database_url, REMEMBER_ME_ENABLED=True)
    account = register(app, "Brave Ember 52")
    client = app.test_client()
    assert 'name="remember"' in client.get("/login").get_data(as_text=True)
    client.post("/login", data={"pseudonym": account.pseudonym, "password": account.password, "remember": "yes"})
    remember = cookie_value(client, "remember_token")
    assert remember is not None
    with app.app_context():
        member = db.session.get(Member, account.id)
        assert member is not None
        assert remember.split("|")[0] == member.auth_token
    assert remember.split("|")[0] != str(account.id)
    # After the server-side session is gone, the cookie restores a fresh, member-bound session...
    with app.app_context():
        db.session.execute(delete(WebSession))
        db.session.commit()
    assert client.get("/rooms").status_code == 200
    (row,) = session_rows(app, account.id)
    assert "_id" not in row.data
    # ...and logging out clears it too.
    response = client.post("/logout")
    assert any(c.startswith("remember_token=;") for c in response.headers.getlist("Set-Cookie"))
    assert client.get("/rooms").status_code == 302
    # Turning the feature off makes existing remember cookies worthless.
    app.config["REMEMBER_ME_ENABLED"] = False
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember)
    assert fresh.get("/rooms").status_code == 302


def _production_app(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Flask:
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "production-test-secret-" + "x" * 40)
    return create_app({"HAVEN_ENV": "production", "DATABASE_URL": database_url,
                       "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 8 * 1024})


def test_production_cookie_is_secure_with_host_prefix(app: Flask, database_url: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    account = register(app, "Honest Maple 61")
    prod = _production_app(monkeypatch, database_url)
    client = prod.test_client()
    assert prod.config["WTF_CSRF_ENABLED"] is not False
    # As a browser does it: fetch the form, post it back with its token and (no-referrer) no Referer.
    form = form_posting_to(client.get("/login", base_url="https://localhost").get_data(as_text=True), "/login")
    response = client.post("/login", base_url="https://localhost",
                           data=form.data(pseudonym=account.pseudonym, password=account.password))
    assert response.status_code == 302
    header = response.headers["Set-Cookie"]
    assert header.startswith("__Host-haven_session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in header
    assert "Domain=" not in header  # __Host- cookies may not name a domain
    assert "Strict-Transport-Security" in response.headers
    assert prod.config["REMEMBER_COOKIE_NAME"].startswith("__Host-") and prod.config["REMEMBER_COOKIE_SECURE"]
    assert client.get("/rooms", base_url="https://localhost").status_code == 200


def test_production_refuses_to_start_without_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"HAVEN_ENV": "production"})


def test_expired_or_unknown_cookie_is_cleared(app: Flask) -> None:
    client = app.test_client()
    client.set_cookie(COOKIE, "no-such-session")
    response = client.get("/guidelines")
    assert f"{COOKIE}=;" in response.headers.get("Set-Cookie", "")


def test_expired_rows_are_swept_when_new_sessions_start(app: Flask, partner: Account,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    login(app.test_client(), partner)
    with app.app_context():
        db.session.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    monkeypatch.setattr(sessions, "_last_prune", None)
    app.test_client().get("/login")  # a visitor's new session
    assert session_rows(app, partner.id) == []
    assert len(session_rows(app)) == 1

"""Log-in and log-out: one answer for every failure, rate limits by address, safe redirects."""

from __future__ import annotations

import argon2
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forum.accounts.actions import LOGIN_FAILED
from forum.accounts.models import Member
from forum.db import db, utcnow
from tests.accounts.pages import comparable, form_posting_to, text_of
from tests.conftest import Account, login

ADDRESS_A = "203.0.113.7"
ADDRESS_B = "192.0.2.55"


def post_login(client: FlaskClient, pseudonym: str, password: str, address: str = "127.0.0.1", **kw):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"pseudonym": pseudonym, "password": password, **kw},
                       environ_base={"REMOTE_ADDR": address})


def test_login_form_has_visible_labels(client: FlaskClient) -> None:
    form = form_posting_to(client.get("/login").get_data(as_text=True), "/login")
    assert form.control("pseudonym").label == "Pseudonym"
    assert form.control("password").label == "Password"
    assert "remember" not in form.names()  # off unless the operator enables it


def test_login_and_logout(client: FlaskClient, partner: Account) -> None:
    response = post_login(client, partner.pseudonym, partner.password)
    assert response.status_code == 302 and response.headers["Location"] == "/rooms"
    assert client.get("/rooms").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert client.get("/rooms").status_code == 302


def test_pseudonym_is_matched_ignoring_case_and_spacing(client: FlaskClient, partner: Account) -> None:
    assert post_login(client, "  quiet_HARBOR-11 ", partner.password).status_code == 302


def test_unknown_pseudonym_and_wrong_password_answer_alike(client: FlaskClient, partner: Account) -> None:
    unknown = post_login(client, "Nobody Here 99", partner.password)
    wrong = post_login(client, partner.pseudonym, "not the right password")
    assert unknown.status_code == wrong.status_code == 401
    assert LOGIN_FAILED in text_of(unknown.get_data(as_text=True))
    # Apart from echoing the typed pseudonym back, the two pages are byte for byte the same.
    assert (comparable(unknown.get_data(as_text=True), "Nobody Here 99")
            == comparable(wrong.get_data(as_text=True), partner.pseudonym))


def test_both_failures_verify_exactly_one_argon2_hash(client: FlaskClient, partner: Account, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Equal work, hence (within noise) equal time: the unknown pseudonym checks a dummy hash."""
    verified: list[str] = []
    real_verify = argon2.PasswordHasher.verify

    def counting_verify(self, hash, password):  # type: ignore[no-untyped-def]
        verified.append(hash if isinstance(hash, str) else hash.decode())
        return real_verify(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting_verify)
    every: list[str] = []
    for pseudonym, password in [("Nobody Here 99", "whatever it is"), (partner.pseudonym, "wrong password!"),
                                ("x" * 500, "too long a name"), ("Nul\x00Name", "a NUL in the name"),
                                (partner.pseudonym, partner.password)]:
        verified.clear()
        post_login(client, pseudonym, password)
        assert len(verified) == 1, pseudonym
        assert verified[0].startswith("$argon2id$")
        every += verified
    # The stand-in hash costs what a member's hash costs: same Argon2id parameters.
    assert all(argon2.extract_parameters(h) == argon2.extract_parameters(every[0]) for h in every)
    client.post("/logout")
    # Posting no fields at all costs the same verification too.
    verified.clear()
    client.post("/login", data={})
    assert len(verified) == 1


def test_rate_limit_from_one_address_does_not_lock_the_member_out(app: Flask, partner: Account) -> None:
    attacker, member = app.test_client(), app.test_client()
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    for _ in range(limit):
        assert post_login(attacker, partner.pseudonym, "guess guess guess", ADDRESS_A).status_code == 401
    blocked = post_login(attacker, partner.pseudonym, partner.password, ADDRESS_A)
    assert blocked.status_code == 429  # even the right password, from the guessing address
    assert "going a little fast" in text_of(blocked.get_data(as_text=True))
    response = post_login(member, partner.pseudonym, partner.password, ADDRESS_B)
    assert response.status_code == 302
    assert member.get("/rooms", environ_base={"REMOTE_ADDR": ADDRESS_B}).status_code == 200
    # Reading the log-in page is never limited.
    assert attacker.get("/login", environ_base={"REMOTE_ADDR": ADDRESS_A}).status_code == 200


def test_signup_rate_limit_is_per_address(app: Flask) -> None:
    client = app.test_client()
    limit = int(app.config["SIGNUP_RATE_LIMIT"].split()[0])
    for _ in range(limit):
        assert client.post("/signup", data={}, environ_base={"REMOTE_ADDR": ADDRESS_A}).status_code == 400
    assert client.post("/signup", data={}, environ_base={"REMOTE_ADDR": ADDRESS_A}).status_code == 429
    response = client.post("/signup", data={"pseudonym": "Brave Birch 33", "password": "calm harbor lantern 42",
                                            "path": "partner", "guidelines": "yes"},
                           environ_base={"REMOTE_ADDR": ADDRESS_B})
    assert response.status_code == 200


def test_recovery_rate_limit_is_per_address(app: Flask, partner: Account) -> None:
    client = app.test_client()
    limit = int(app.config["RECOVERY_RATE_LIMIT"].split()[0])
    guess = {"pseudonym": partner.pseudonym, "recovery_code": "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA",
             "new_password": "a fresh start at dawn"}
    for _ in range(limit):
        assert client.post("/recover", data=guess, environ_base={"REMOTE_ADDR": ADDRESS_A}).status_code == 401
    right = dict(guess, recovery_code=partner.recovery_code)
    assert client.post("/recover", data=right, environ_base={"REMOTE_ADDR": ADDRESS_A}).status_code == 429
    assert client.post("/recover", data=right, environ_base={"REMOTE_ADDR": ADDRESS_B}).status_code == 200


def test_rate_limit_keys_are_hashed_addresses(app: Flask) -> None:
    """The limiter never sees (or stores) a raw address, and the hash changes with the period."""
    from forum import privacy

    with app.test_request_context(environ_base={"REMOTE_ADDR": ADDRESS_A}):
        key = privacy.client_key()
        assert ADDRESS_A not in key and len(key) == 32
        assert key != privacy.hash_address(ADDRESS_B)


def test_banned_member_cannot_log_in(app: Flask, client: FlaskClient, partner: Account) -> None:
    with app.app_context():
        db.session.get(Member, partner.id).banned_at = utcnow()  # type: ignore[union-attr]
        db.session.commit()
    response = post_login(client, partner.pseudonym, partner.password)
    assert response.status_code == 403
    assert client.get("/rooms").status_code == 302


@pytest.mark.parametrize(("target", "expected"), [
    ("/rooms/just-found-out", "/rooms/just-found-out"),
    ("//evil.example/x", "/rooms"),
    ("https://evil.example/", "/rooms"),
    ("/\\evil.example", "/rooms"),
    ("/\t/evil.example", "/rooms"),
    ("javascript:alert(1)", "/rooms"),
])
def test_next_only_follows_paths_on_this_site(client: FlaskClient, partner: Account, target: str,
                                              expected: str) -> None:
    response = client.post("/login", query_string={"next": target},
                           data={"pseudonym": partner.pseudonym, "password": partner.password})
    assert response.status_code == 302 and response.headers["Location"] == expected


def test_visitor_sent_to_login_comes_back(client: FlaskClient, partner: Account) -> None:
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    response = client.post(response.headers["Location"],
                           data={"pseudonym": partner.pseudonym, "password": partner.password})
    assert response.headers["Location"] == "/account"


def test_the_login_form_itself_carries_next(client: FlaskClient, partner: Account) -> None:
    """Without JavaScript the way back lives in the form's action, so the browser keeps it."""
    location = client.get("/account").headers["Location"]
    form = form_posting_to(client.get(location).get_data(as_text=True), "/login")
    assert form.action.endswith("/login?next=/account")
    response = client.post(form.action, data=form.data(pseudonym=partner.pseudonym, password=partner.password))
    assert response.status_code == 302 and response.headers["Location"] == "/account"


def test_password_is_rehashed_when_parameters_change(app: Flask, client: FlaskClient, partner: Account) -> None:
    old = argon2.PasswordHasher(time_cost=2, memory_cost=16 * 1024, parallelism=1).hash(partner.password)
    with app.app_context():
        db.session.get(Member, partner.id).password_hash = old  # type: ignore[union-attr]
        db.session.commit()
    login(client, partner)
    with app.app_context():
        new = db.session.scalar(select(Member.password_hash).where(Member.id == partner.id))
    assert new is not None
    assert new != old and new.startswith("$argon2id$")
    params = argon2.extract_parameters(new)
    assert (params.time_cost, params.memory_cost) == (app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_KIB"])
    assert argon2.PasswordHasher().verify(new, partner.password)
    # A hash already on the current parameters is left alone.
    client.post("/logout")
    login(client, partner)
    with app.app_context():
        assert db.session.scalar(select(Member.password_hash).where(Member.id == partner.id)) == new


def test_wrong_password_does_not_rehash(app: Flask, client: FlaskClient, partner: Account) -> None:
    old = argon2.PasswordHasher(time_cost=2, memory_cost=16 * 1024, parallelism=1).hash(partner.password)
    with app.app_context():
        db.session.get(Member, partner.id).password_hash = old  # type: ignore[union-attr]
        db.session.commit()
    assert post_login(client, partner.pseudonym, "not the password").status_code == 401
    with app.app_context():
        assert db.session.scalar(select(Member.password_hash).where(Member.id == partner.id)) == old

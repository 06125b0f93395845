"""The account page (change password) and the create-moderator command."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path
from select import select as wait_readable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forum.accounts.models import Member
from forum.db import db
from forum.rooms.models import Room
from tests.accounts.pages import form_posting_to, text_of
from tests.conftest import Account

ROOT = Path(__file__).resolve().parents[2]


def test_account_page_shows_change_password_form(partner_client: FlaskClient, partner: Account) -> None:
    html = partner_client.get("/account").get_data(as_text=True)
    assert partner.pseudonym in html
    form = form_posting_to(html, "/account/password")
    assert form.control("current_password").label == "Current password"
    assert form.control("new_password").label == "New password"
    assert form.control("current_password").type == form.control("new_password").type == "password"


def test_change_password_needs_the_current_one(app: Flask, partner_client: FlaskClient, partner: Account) -> None:
    response = partner_client.post("/account/password", data={"current_password": "not my password",
                                                              "new_password": "a brand new lighthouse"})
    assert response.status_code == 400
    assert "current password isn't right" in text_of(response.get_data(as_text=True))
    response = partner_client.post("/account/password", data={"current_password": partner.password,
                                                              "new_password": "short"})
    assert response.status_code == 400 and "at least 10" in text_of(response.get_data(as_text=True))
    with app.app_context():
        member = db.session.get(Member, partner.id)
        assert member is not None
    response = partner_client.post("/account/password", data={"current_password": partner.password,
                                                              "new_password": "a brand new lighthouse"})
    assert response.status_code == 200
    assert "Your password is changed" in text_of(response.get_data(as_text=True))
    fresh = app.test_client()
    assert fresh.post("/login", data={"pseudonym": partner.pseudonym, "password": partner.password}).status_code == 401
    assert fresh.post("/login", data={"pseudonym": partner.pseudonym,
                                      "password": "a brand new lighthouse"}).status_code == 302
    with app.app_context():
        updated = db.session.get(Member, partner.id)
        assert updated is not None and updated.auth_token != member.auth_token  # old remember tokens die too


def test_account_page_needs_login(client: FlaskClient) -> None:
    assert client.get("/account").status_code == 302
    assert client.post("/account/password", data={}).status_code == 302


def test_create_moderator_reads_password_from_stdin(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-moderator", "Calm Warden 7"], input="quiet watch at night\n")
    assert result.exit_code == 0, result.output
    assert "created moderator Calm Warden 7" in result.output
    assert "recovery code (shown once)" in result.output
    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.pseudonym == "Calm Warden 7"))
        assert member is not None and member.role == "moderator" and member.is_moderator
        assert member.password_hash.startswith("$argon2id$")
        rooms = list(db.session.scalars(select(Room)))
    assert {r.audience for r in rooms} == {"partner", "recovery"}
    # The moderator sees and can open every room, of both audiences.
    client = app.test_client()
    assert client.post("/login", data={"pseudonym": "Calm Warden 7",
                                       "password": "quiet watch at night"}).status_code == 302
    index = client.get("/rooms").get_data(as_text=True)
    for room in rooms:
        assert room.name in text_of(index)
        assert client.get(f"/rooms/{room.slug}").status_code == 200


def test_create_moderator_refuses_weak_password_and_bad_names(app: Flask, partner: Account) -> None:
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["create-moderator", "Calm Warden 7"], input="password123\n")
    assert weak.exit_code == 1 and "most common" in weak.output
    empty = runner.invoke(args=["create-moderator", "Calm Warden 7"], input="")
    assert empty.exit_code == 1
    taken = runner.invoke(args=["create-moderator", partner.pseudonym.lower()], input="quiet watch at night\n")
    assert taken.exit_code == 1 and "taken" in taken.output
    with app.app_context():
        assert db.session.scalar(select(Member).where(Member.pseudonym == "Calm Warden 7")) is None


def _read_until(fd: int, wanted: bytes, seen: bytearray, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"waited for {wanted!r}, got {bytes(seen)!r}"
        ready, _, _ = wait_readable([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the other end closed
                chunk = b""
            assert chunk, f"the command ended before {wanted!r}: {bytes(seen)!r}"
            seen.extend(chunk)


def test_create_moderator_prompts_for_the_password_on_a_terminal(app: Flask, database_url: str) -> None:
    """On a terminal the password is asked twice and never echoed (here a real pseudo-terminal)."""
    password = "lanterns along the quay"
    primary, secondary = pty.openpty()
    env = {**os.environ, "HAVEN_ENV": "test", "DATABASE_URL": database_url}
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "create-moderator", "Calm Warden 7"],
                               cwd=ROOT, env=env, stdin=secondary, stdout=secondary, stderr=secondary,
                               close_fds=True)
    os.close(secondary)
    seen = bytearray()
    try:
        _read_until(primary, b"Password:", seen)
        os.write(primary, password.encode() + b"\n")
        _read_until(primary, b"confirmation:", seen)
        os.write(primary, password.encode() + b"\n")
        _read_until(primary, b"recovery code (shown once)", seen)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(primary)
    output = seen.decode(errors="replace")
    assert "created moderator Calm Warden 7" in output
    assert password not in output  # typed, not echoed
    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.pseudonym == "Calm Warden 7"))
        assert member is not None and member.role == "moderator"
    assert app.test_client().post("/login", data={"pseudonym": "Calm Warden 7",
                                                  "password": password}).status_code == 302

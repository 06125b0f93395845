"""Resetting a forgotten password with the one-time recovery code."""

from __future__ import annotations

import re

import argon2
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forum.accounts.models import Member
from forum.db import db
from tests.accounts.pages import comparable, form_posting_to, text_of
from tests.conftest import Account

NEW_PASSWORD = "a brand new lighthouse"


def reset(client: FlaskClient, pseudonym: str, code: str, new: str = NEW_PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/recover", data={"pseudonym": pseudonym, "recovery_code": code, "new_password": new})


def shown_code(html: str) -> str:
    match = re.search(r'id="recovery-code">([A-Z0-9-]+)<', html)
    assert match, "no recovery code on the page"
    return match.group(1)


def test_recover_form_labels(client: FlaskClient) -> None:
    form = form_posting_to(client.get("/recover").get_data(as_text=True), "/recover")
    assert form.control("pseudonym").label == "Pseudonym"
    assert form.control("recovery_code").label == "Recovery code"
    assert form.control("new_password").label == "New password"


def test_reset_with_code_is_single_use_and_issues_a_new_code(app: Flask, partner: Account) -> None:
    client = app.test_client()
    response = reset(client, partner.pseudonym, partner.recovery_code)
    assert response.status_code == 200
    new_code = shown_code(response.get_data(as_text=True))
    assert new_code != partner.recovery_code
    assert client.get("/rooms").status_code == 200  # logged in with the new password's session
    # The old code is used up.
    again = reset(app.test_client(), partner.pseudonym, partner.recovery_code, "another new password")
    assert again.status_code == 401
    assert "don't match" in text_of(again.get_data(as_text=True))
    # The new password works, the old one doesn't.
    other = app.test_client()
    assert other.post("/login", data={"pseudonym": partner.pseudonym, "password": partner.password}).status_code == 401
    assert other.post("/login", data={"pseudonym": partner.pseudonym, "password": NEW_PASSWORD}).status_code == 302
    # The new code is stored only as an Argon2id hash, and works once.
    with app.app_context():
        stored = db.session.scalar(select(Member.recovery_code_hash).where(Member.id == partner.id))
    assert stored is not None and stored.startswith("$argon2id$") and new_code not in stored
    assert argon2.PasswordHasher().verify(stored, new_code)
    assert reset(app.test_client(), partner.pseudonym, new_code.lower().replace("-", " "), "third time lucky ok").status_code == 200


def test_wrong_code_and_unknown_pseudonym_answer_alike(client: FlaskClient, partner: Account) -> None:
    unknown = reset(client, "Nobody Here 99", partner.recovery_code)
    wrong = reset(client, partner.pseudonym, "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE")
    assert unknown.status_code == wrong.status_code == 401
    assert (comparable(unknown.get_data(as_text=True), "Nobody Here 99")
            == comparable(wrong.get_data(as_text=True), partner.pseudonym))


def test_weak_new_password_keeps_the_code_valid(app: Flask, partner: Account) -> None:
    client = app.test_client()
    response = reset(client, partner.pseudonym, partner.recovery_code, "password123")
    assert response.status_code == 400
    assert "most common" in text_of(response.get_data(as_text=True))
    assert reset(client, partner.pseudonym, partner.recovery_code).status_code == 200


def test_garbage_input_is_refused_cleanly(client: FlaskClient, partner: Account) -> None:
    for data in ({}, {"pseudonym": partner.pseudonym}, {"pseudonym": "x" * 5000, "recovery_code": "y" * 5000},
                 {"pseudonym": partner.pseudonym, "recovery_code": "\x00", "new_password": "\x00" * 20}):
        assert client.post("/recover", data=data).status_code in (400, 401)

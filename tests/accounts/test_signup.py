"""Sign-up: only a pseudonym, a password, a path and the guidelines; every problem shown at once."""

from __future__ import annotations

import itertools
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forum.accounts.models import Member, WebSession
from forum.accounts.pseudonyms import pseudonym_problem
from forum.db import db
from tests.accounts.pages import form_posting_to, text_of
from tests.conftest import PASSWORD, Account

SUGGESTION = re.compile(r"^[A-Z][a-z]+ [A-Z][a-z]+ \d{2}$")
# Each attempt comes from its own address, so these tests stay clear of the sign-up rate limit
# (tested on its own in test_login.py).
_addresses = (f"198.51.100.{n}" for n in itertools.cycle(range(1, 255)))


def signup(client: FlaskClient, pseudonym: str = "Patient Fern 40", password: str = PASSWORD,
           path: str | None = "recovery", guidelines: bool = True):  # type: ignore[no-untyped-def]
    data = {"pseudonym": pseudonym, "password": password}
    if path is not None:
        data["path"] = path
    if guidelines:
        data["guidelines"] = "yes"
    return client.post("/signup", data=data, environ_base={"REMOTE_ADDR": next(_addresses)})


def test_signup_form_asks_only_for_the_four_things(client: FlaskClient) -> None:
    html = client.get("/signup").get_data(as_text=True)
    form = form_posting_to(html, "/signup")
    assert form.names() == {"csrf_token", "pseudonym", "password", "path", "guidelines"}
    assert form.control("pseudonym").label == "Pseudonym"
    assert form.control("password").label == "Password"
    assert form.control("password").type == "password"
    partner, recovery = form.control("path", "partner"), form.control("path", "recovery")
    assert partner.type == recovery.type == "radio"
    assert "partner" in partner.label and "recovery" in recovery.label
    guidelines = form.control("guidelines")
    assert guidelines.type == "checkbox" and "guidelines" in guidelines.label
    text = text_of(html)
    assert "decides which rooms you see" in text and "can’t change this yourself" in text
    assert "email" in text.lower()  # "No email, no real name, no phone number."
    assert 'href="/guidelines"' in html


def test_signup_creates_member_logs_in_and_shows_code_once(app: Flask, client: FlaskClient) -> None:
    response = signup(client, "Patient Fern 40", path="recovery")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    code = re.search(r'id="recovery-code">([A-Z0-9-]+)<', html)
    assert code is not None and re.fullmatch(r"([A-Z2-9]{5}-){4}[A-Z2-9]{5}", code.group(1))
    assert "only once" in html
    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.pseudonym == "Patient Fern 40"))
        assert member is not None and member.path == "recovery" and member.role == "member"
        assert member.recovery_code_hash.startswith("$argon2id$")
        assert member.password_hash.startswith("$argon2id$")
        # The code is nowhere in plain text: not in the member row, not in any session's data.
        stored = [str(getattr(member, c.key)) for c in Member.__table__.columns]
        stored += [str(row.data) for row in db.session.scalars(select(WebSession))]
        assert not any(code.group(1) in value or code.group(1).replace("-", "") in value for value in stored)
    assert client.get("/rooms").status_code == 200  # logged in straight away
    # Nothing shows the code again.
    for path in ("/rooms", "/account", "/signup"):
        assert code.group(1) not in client.get(path, follow_redirects=True).get_data(as_text=True)


def test_every_problem_is_shown_at_once(app: Flask, client: FlaskClient) -> None:
    response = client.post("/signup", data={"pseudonym": "jane@example.com", "password": "password123"},
                           environ_base={"REMOTE_ADDR": next(_addresses)})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for message in ("looks like an email address", "one of the most common", "partner or in recovery",
                    "accept the community guidelines"):
        assert message in html
    for name in ("pseudonym", "password", "path", "guidelines"):
        assert f'id="{name}-error"' in html
    assert 'aria-invalid="true"' in html
    assert 'value="jane@example.com"' in html  # what they typed is kept (never the password)
    assert "password123" not in html
    with app.app_context():
        assert db.session.scalar(select(Member).where(Member.pseudonym == "jane@example.com")) is None


def test_each_pseudonym_rule_has_its_message_over_http(client: FlaskClient, partner: Account) -> None:
    cases = {
        "ab": "3 to 24 characters",
        "y" * 25: "3 to 24 characters",
        "me@mail.org": "email address",
        "call 555 123 4567": "phone number",
        "www.example.org": "web address",
        "hi!!": "letters, digits, spaces",
        "Haven Moderator": "mistaken for Haven",
        partner.pseudonym.upper(): "taken",
        partner.pseudonym.replace(" ", "_").lower(): "taken",
        "   ": "can't be empty",
        "- _ -": "at least one letter",
    }
    for pseudonym, message in cases.items():
        response = signup(client, pseudonym)
        assert response.status_code == 400, pseudonym
        assert message in text_of(response.get_data(as_text=True)), (pseudonym, message)


def test_password_rules(client: FlaskClient) -> None:
    cases = {"short1234": "at least 10 characters", "qwerty123456": "most common",
             "Password2024!": "most common", "patient fern forever": "pseudonym", "": "choose a password",
             "x" * 300: "at most 256", "calm harbor \ufffd lantern": "couldn't read"}
    for password, message in cases.items():
        response = signup(client, "Patient Fern", password=password)
        assert response.status_code == 400
        assert message in text_of(response.get_data(as_text=True)), (password, message)


WELL_KNOWN = ["1234567890", "qwertyuiop", "password123", "iloveyou123", "1q2w3e4r5t", "P@ssw0rd123", "Password1!",
              "aaaaaaaaaa", "abcdefghij", "1qaz2wsx3edc", "abc123abc123", "Summer2023!", "hunter2hunter2",
              "trustno1234", "qazwsxedc1", "letmeinplease", "manchester", "elizabeth1", "michelle12",
              "joshua1234", "Welcome@123", "recovery123", "haven12345"]
PASSPHRASES = ["calm harbor lantern 42", "slow tide over stones", "violet-otter-kettle", "Mx7!qL9#pz",
               "third time lucky ok", "silver birch morning"]


def test_well_known_passwords_are_refused_and_passphrases_are_not() -> None:
    from forum.accounts.passwords import is_common_password

    assert [p for p in WELL_KNOWN if not is_common_password(p)] == []
    assert [p for p in PASSPHRASES if is_common_password(p)] == []


def test_path_must_be_one_of_the_two(client: FlaskClient) -> None:
    for path in (None, "moderator", "both"):
        response = signup(client, path=path)
        assert response.status_code == 400
        assert "partner or in recovery" in text_of(response.get_data(as_text=True))


def test_suggest_without_javascript(app: Flask, client: FlaskClient) -> None:
    html = client.get("/signup?suggest=1").get_data(as_text=True)
    value = form_posting_to(html, "/signup").control("pseudonym").value
    assert SUGGESTION.match(value) and pseudonym_problem(value) is None
    # The control itself is a plain link to that page, which the script enhances.
    link = re.search(r'<a[^>]*id="suggest-pseudonym"[^>]*>', html)
    assert link and 'href="/signup?suggest=1"' in link.group(0) and 'data-suggest-url="/signup/suggest"' in link.group(0)
    assert "Suggest a pseudonym" in html
    # The suggestion is accepted as it is.
    assert signup(client, value).status_code == 200


def test_suggest_for_javascript_returns_json(client: FlaskClient) -> None:
    names = {client.get("/signup/suggest").get_json()["pseudonym"] for _ in range(5)}
    assert all(SUGGESTION.match(n) for n in names)
    assert len(names) > 1


def test_suggestion_avoids_taken_names(app: Flask, client: FlaskClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from forum.accounts import actions
    from tests.conftest import register

    register(app, "Quiet River 11")
    names = iter(["Quiet River 11", "Quiet River 11", "Calm Brook 12"])
    monkeypatch.setattr(actions, "suggest_pseudonym", lambda: next(names))
    assert client.get("/signup/suggest").get_json()["pseudonym"] == "Calm Brook 12"


def test_logged_in_member_is_sent_to_rooms(partner_client: FlaskClient) -> None:
    response = partner_client.get("/signup")
    assert response.status_code == 302 and response.headers["Location"].endswith("/rooms")


def test_pseudonym_is_stored_normalized(app: Flask, client: FlaskClient) -> None:
    assert signup(client, "  Ｍｅｌｌｏｗ   Tide ").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Member.pseudonym)) == "Mellow Tide"


def test_guidelines_page_is_public_and_warm(client: FlaskClient) -> None:
    response = client.get("/guidelines")
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert "Community guidelines" in text and "judg" in text


def test_bad_bytes_get_a_clear_answer_not_a_crash(app: Flask, client: FlaskClient) -> None:
    unreadable = [b"pseudonym=Brave%FF%FEBirch&password=calm+harbor+lantern+42&path=partner&guidelines=yes",
                  b"pseudonym=Brave+Birch&password=calm%FFharbor%FElantern&path=partner&guidelines=yes",
                  b"pseudonym=Brave+Birch&password=calm\xe9harbor+lantern&path=partner&guidelines=yes"]
    malformed = [b"pseudonym=Brave%00Birch&password=calm+harbor+lantern+42&path=partner&guidelines=yes",
                 b"pseudonym=Brave+Birch&password=calm%00harbor%00lantern&path=partner&guidelines=yes",
                 b"pseudonym[]=x&password=&&&==&path=partner"]
    for url in ("/signup", "/login"):
        for body in unreadable:
            response = client.post(url, data=body, content_type="application/x-www-form-urlencoded",
                                   environ_base={"REMOTE_ADDR": next(_addresses)})
            assert response.status_code == 400, (url, body)
            assert "wasn’t valid UTF-8" in text_of(response.get_data(as_text=True)).replace("'", "’")
    for body in malformed:
        response = client.post("/signup", data=body, content_type="application/x-www-form-urlencoded",
                               environ_base={"REMOTE_ADDR": next(_addresses)})
        assert response.status_code == 400, body
        assert 'class="field-error"' in response.get_data(as_text=True)
        response = client.post("/login", data=body, content_type="application/x-www-form-urlencoded",
                               environ_base={"REMOTE_ADDR": next(_addresses)})
        assert response.status_code == 401
    with app.app_context():
        assert db.session.scalar(select(Member).where(Member.pseudonym.like("Brave%"))) is None


def test_double_submit_creates_one_account(app: Flask, client: FlaskClient) -> None:
    assert signup(client, "Tender Heron 77").status_code == 200
    again = signup(client, "Tender Heron 77")
    assert again.status_code == 302 and again.headers["Location"] == "/rooms"
    other_browser = app.test_client()
    response = signup(other_browser, "tender heron 77")
    assert response.status_code == 400 and "taken" in text_of(response.get_data(as_text=True))
    with app.app_context():
        assert len(db.session.scalars(select(Member).where(Member.pseudonym == "Tender Heron 77")).all()) == 1

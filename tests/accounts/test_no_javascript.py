"""The whole account flow as a browser without JavaScript does it: plain forms, real CSRF tokens."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.accounts.pages import Form, form_posting_to, internal_links, text_of


def submit(client: FlaskClient, page: str, action: str, **values: str):  # type: ignore[no-untyped-def]
    """Find the form posting to ``action`` on ``page`` and submit it with ``values``."""
    form: Form = form_posting_to(page, action)
    assert form.data()["csrf_token"], "every form carries a CSRF token"
    return client.post(form.action, data=form.data(**values))


def test_sign_up_log_out_log_in_change_password_recover(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    browser = app.test_client()

    # Land, follow "Join", take a suggested pseudonym through the plain link.
    landing = browser.get("/").get_data(as_text=True)
    assert "/signup" in internal_links(landing, "http://localhost/")
    page = browser.get("/signup?suggest=1").get_data(as_text=True)
    pseudonym = form_posting_to(page, "/signup").control("pseudonym").value
    assert pseudonym
    response = submit(browser, page, "/signup", pseudonym=pseudonym, password="slow tide over stones",
                      path="partner", guidelines="yes")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    code = re.search(r'id="recovery-code">([A-Z0-9-]+)<', page)
    assert code
    assert "/rooms" in internal_links(page, "http://localhost/")
    rooms = browser.get("/rooms").get_data(as_text=True)
    assert pseudonym in rooms

    # Log out with the button in the header.
    response = submit(browser, rooms, "/logout")
    assert response.status_code == 302 and browser.get("/rooms").status_code == 302

    # Log in again through the form.
    response = submit(browser, browser.get("/login").get_data(as_text=True), "/login",
                      pseudonym=pseudonym, password="slow tide over stones")
    assert response.status_code == 302 and response.headers["Location"] == "/rooms"

    # Change the password from the account page.
    account = browser.get("/account").get_data(as_text=True)
    response = submit(browser, account, "/account/password", current_password="slow tide over stones",
                      new_password="bright kettle morning")
    assert response.status_code == 200 and "password is changed" in text_of(response.get_data(as_text=True))
    submit(browser, browser.get("/account").get_data(as_text=True), "/logout")

    # Forget it; reset with the recovery code.
    page = browser.get("/recover").get_data(as_text=True)
    response = submit(browser, page, "/recover", pseudonym=pseudonym, recovery_code=code.group(1),
                      new_password="green door at noon")
    assert response.status_code == 200
    assert re.search(r'id="recovery-code">([A-Z0-9-]+)<', response.get_data(as_text=True))
    submit(browser, browser.get("/rooms").get_data(as_text=True), "/logout")
    response = submit(browser, browser.get("/login").get_data(as_text=True), "/login",
                      pseudonym=pseudonym, password="green door at noon")
    assert response.status_code == 302


def test_forms_have_visible_labels_for_every_control(app: Flask, partner_client: FlaskClient,
                                                     client: FlaskClient) -> None:
    pages = [(client, "/signup"), (client, "/login"), (client, "/recover"), (partner_client, "/account")]
    for who, path in pages:
        html = who.get(path).get_data(as_text=True)
        form = form_posting_to(html, path if path != "/account" else "/account/password")
        for control in form.visible():
            assert control.label.strip(), (path, control.name)

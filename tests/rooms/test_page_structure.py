"""Every rooms page is usable with a screen reader, a keyboard and no JavaScript:
one h1, landmarks, a label for every control, unique ids, and nothing inline that the
Content-Security-Policy would block."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Account
from tests.rooms.conftest import PARTNER_ROOM, Made, add_reply
from tests.rooms.dom import Element, parse


@pytest.fixture
def pages(app: Flask, partner: Account, other_partner: Account, partner_thread: Made) -> list[str]:
    reply = add_reply(app, other_partner, partner_thread.post_id, "A kind answer")
    add_reply(app, partner, reply, "Thank you")
    return ["/rooms", f"/rooms/{PARTNER_ROOM}", f"/rooms/{PARTNER_ROOM}/new", f"/threads/{partner_thread.thread_id}",
            f"/posts/{reply}", f"/posts/{reply}/reply", f"/posts/{partner_thread.post_id}/edit",
            f"/posts/{partner_thread.post_id}/delete"]


def controls(doc: Element) -> list[Element]:
    return [e for e in doc.find_all() if e.tag in ("input", "textarea", "select", "button")
            and e.attrs.get("type") != "hidden" and not any(a.tag == "template" for a in e.ancestors())]


def has_label(doc: Element, control: Element) -> bool:
    if control.tag == "button":
        return bool(control.text())
    ident = control.attrs.get("id")
    if ident and any(label.attrs.get("for") == ident and label.text() for label in doc.find_all("label")):
        return True
    return any(a.tag == "label" for a in control.ancestors())


def test_pages_have_headings_landmarks_and_labels(partner_client: FlaskClient, pages: list[str]) -> None:
    for url in pages:
        response = partner_client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        doc = parse(body)
        assert len(doc.find_all("h1")) == 1, url
        assert len(doc.find_all("main")) == 1 and doc.find_all("nav"), url
        for control in controls(doc):
            assert has_label(doc, control), f"{url}: unlabelled {control.tag} {control.attrs}"
        ids = [e.attrs["id"] for e in doc.find_all() if "id" in e.attrs
               and not any(a.tag == "template" for a in e.ancestors())]
        assert len(ids) == len(set(ids)), f"{url}: duplicate ids {sorted(i for i in ids if ids.count(i) > 1)}"
        for element in doc.find_all():
            assert "style" not in element.attrs, f"{url}: inline style on <{element.tag}>"
            assert not any(name.startswith("on") for name in element.attrs), f"{url}: inline handler"
            if element.tag == "script":
                assert element.attrs.get("src"), f"{url}: inline script"
        for form in doc.find_all("form"):
            assert form.attrs.get("method", "get").lower() == "post" or form.attrs.get("role") == "search", url


def test_headings_follow_each_other_without_gaps(partner_client: FlaskClient, pages: list[str]) -> None:
    for url in pages:
        doc = parse(partner_client.get(url).get_data(as_text=True))
        levels = [int(e.tag[1]) for e in doc.find_all() if e.tag in ("h1", "h2", "h3", "h4", "h5", "h6")]
        for before, after in zip(levels, levels[1:], strict=False):
            assert after <= before + 1, f"{url}: h{before} followed by h{after}"


def test_each_post_is_an_article_named_by_its_author(partner_client: FlaskClient, partner_thread: Made) -> None:
    doc = parse(partner_client.get(f"/threads/{partner_thread.thread_id}").get_data(as_text=True))
    for article in doc.find_all("article"):
        heading = doc.by_id(article.attrs["aria-labelledby"])
        assert heading.tag == "h3" and heading.text()
    reply_links = doc.find_all("a", "reply-link")
    assert reply_links and all(link.attrs["href"].endswith("/reply") for link in reply_links)
    assert all("Reply to " in link.text() for link in reply_links)  # the hidden part names whom it answers


def test_every_writing_form_names_its_fields_title_and_message(partner_client: FlaskClient,
                                                               partner_thread: Made) -> None:
    """The labels a screen reader speaks: "Title" for a new thread, "Message" wherever text is written."""
    from tests.accounts.pages import form_posting_to

    post = partner_thread.post_id
    forms = {f"/rooms/{PARTNER_ROOM}/new": f"/rooms/{PARTNER_ROOM}/threads",
             f"/threads/{partner_thread.thread_id}": f"/threads/{partner_thread.thread_id}/replies",
             f"/posts/{post}/reply": f"/posts/{post}/replies", f"/posts/{post}/edit": f"/posts/{post}/edit"}
    for page, action in forms.items():
        form = form_posting_to(partner_client.get(page).get_data(as_text=True), action)
        assert form.control("body").label == "Message", page
        assert form.control("body").tag == "textarea", page
    new = form_posting_to(partner_client.get(f"/rooms/{PARTNER_ROOM}/new").get_data(as_text=True),
                          f"/rooms/{PARTNER_ROOM}/threads")
    assert new.control("title").label == "Title"

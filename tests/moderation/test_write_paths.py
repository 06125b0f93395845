"""Every path that stores a member's text goes through the one screening function.

Thread titles and opening posts, replies, edits and chat lines: a refused word stores
nothing on any of them, the two nudges (judgment, identifying information) ask first
on each, and what the author then chooses lands where the issue says (judgment:
published and flagged; identifying: held).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forum.db import db
from forum.moderation.screening import PRIORITY_CRISIS, PRIORITY_IDENTIFYING, PRIORITY_JUDGMENT
from forum.rooms.models import Post
from tests.conftest import Account
from tests.moderation.conftest import client_for, item_for, make_new, notices_of, open_items, post_status, room_id
from tests.rooms.conftest import PARTNER_ROOM, Made, add_reply, snapshot

JUDGING = "You should be ashamed of yourself for staying with him."
IDENTIFYING = "You can text me on 07700 900123 any evening."


def _watch(moderator_client: FlaskClient, phrase: str, action: str) -> None:
    response = moderator_client.post("/moderation/words", data={"phrase": phrase, "action": action})
    assert response.status_code == 302


def _write(client: FlaskClient, path: str, made: Made, text: str, **extra: str) -> Any:
    """Send ``text`` down one write path as the browser's form would."""
    if path == "title":
        return client.post(f"/rooms/{PARTNER_ROOM}/threads", data={"title": text, "body": "Ordinary words.", **extra})
    if path == "thread":
        return client.post(f"/rooms/{PARTNER_ROOM}/threads", data={"title": "Ordinary", "body": text, **extra})
    if path == "reply":
        return client.post(f"/posts/{made.post_id}/replies", data={"body": text, **extra})
    if path == "edit":
        return client.post(f"/posts/{made.post_id}/edit", data={"body": text, **extra})
    raise AssertionError(path)


PATHS = ["title", "thread", "reply", "edit"]


@pytest.mark.parametrize("path", PATHS)
def test_a_refused_word_stores_nothing_on_any_form(app: Flask, path: str, partner_client: FlaskClient,
                                                   partner_thread: Made, moderator_client: FlaskClient) -> None:
    _watch(moderator_client, "zebracorn", "refuse")
    before = snapshot(app)
    response = _write(partner_client, path, partner_thread, "Honestly, z3bracorn.")
    assert response.status_code == 422
    assert "reword it" in response.get_data(as_text=True)
    assert snapshot(app) == before
    assert post_status(app, partner_thread.post_id) == "published"


def test_a_refused_word_stores_nothing_in_chat(app: Flask, partner_client: FlaskClient,
                                               moderator_client: FlaskClient, connect) -> None:
    _watch(moderator_client, "zebracorn", "refuse")
    sock = connect(partner_client)
    before = snapshot(app)  # after connecting: the open socket has its own row
    ack = sock.emit("send", {"room_id": room_id(app), "body": "z e b r a c o r n",
                                                "client_id": "refused-01"}, callback=True)
    assert ack["ok"] is False and ack["code"] == "refused"
    assert snapshot(app) == before


@pytest.mark.parametrize("path", PATHS)
def test_a_replace_word_is_rewritten_on_every_form(app: Flask, path: str, partner_client: FlaskClient,
                                                   partner_thread: Made, moderator_client: FlaskClient) -> None:
    moderator_client.post("/moderation/words", data={"phrase": "zebracorn", "action": "replace",
                                                     "replacement": "[kind word]"})
    assert _write(partner_client, path, partner_thread, "What a ZEBRACORN this is").status_code == 302
    with app.app_context():
        from forum.rooms.models import Thread

        texts = list(db.session.scalars(select(Post.body_source))) + list(db.session.scalars(select(Thread.title)))
    assert not any("ZEBRACORN" in text for text in texts)
    assert any("What a [kind word] this is" in text for text in texts)


@pytest.mark.parametrize("path", ["thread", "reply", "edit"])
def test_the_judgment_nudge_asks_first_and_posting_anyway_publishes_and_flags(
        app: Flask, path: str, partner: Account, partner_client: FlaskClient, partner_thread: Made) -> None:
    before = snapshot(app)
    asked = _write(partner_client, path, partner_thread, JUDGING, submit_key="judging-key-1")
    assert asked.status_code == 409
    page = asked.get_data(as_text=True)
    assert "This might land as judgment. Would you like to rephrase?" in page
    assert "Post it as it is" in page and JUDGING in page  # edit it, or post anyway
    assert snapshot(app) == before

    anyway = _write(partner_client, path, partner_thread, JUDGING, submit_key="judging-key-1", confirmed="yes")
    assert anyway.status_code == 302
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.body_source == JUDGING))
        assert post is not None
        post_id = post.id
    assert post_status(app, post_id) == "published"
    item = item_for(app, post_id)
    assert "judgment" in item.labels and item.priority == PRIORITY_JUDGMENT and item.state == "open"
    assert notices_of(app, partner.id) == []  # nothing to tell the author: it is visible


@pytest.mark.parametrize("path", ["thread", "reply", "edit"])
def test_identifying_details_warn_first_and_posting_anyway_holds(
        app: Flask, path: str, partner: Account, partner_client: FlaskClient, partner_thread: Made,
        other_partner_client: FlaskClient) -> None:
    before = snapshot(app)
    asked = _write(partner_client, path, partner_thread, IDENTIFYING, submit_key="ident-key-01")
    assert asked.status_code == 409
    assert "identify you or someone else" in asked.get_data(as_text=True)
    assert snapshot(app) == before

    anyway = _write(partner_client, path, partner_thread, IDENTIFYING, submit_key="ident-key-01", confirmed="yes")
    assert anyway.status_code == 302
    with app.app_context():
        post_id = db.session.scalar(select(Post.id).where(Post.body_source == IDENTIFYING))
        assert post_id is not None
    assert post_status(app, post_id) == "held"
    item = item_for(app, post_id)
    assert "pii:phone" in item.labels and item.priority == PRIORITY_IDENTIFYING
    thread_id = partner_thread.thread_id
    if path != "thread":
        assert "07700" not in other_partner_client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert [n.kind for n in notices_of(app, partner.id)] == ["held"]


def test_an_edit_that_screening_holds_leaves_open_thread_pages(app: Flask, partner: Account,
                                                               partner_client: FlaskClient, partner_thread: Made,
                                                               sent_events: list) -> None:
    reply_id = add_reply(app, partner, partner_thread.post_id, "A reply that starts out fine.")
    sent_events.clear()
    response = partner_client.post(f"/posts/{reply_id}/edit", data={"body": IDENTIFYING, "confirmed": "yes"})
    assert response.status_code == 302
    assert post_status(app, reply_id) == "held"
    assert ("post", {"type": "post", "op": "remove", "thread_id": partner_thread.thread_id, "id": reply_id},
            f"thread:{partner_thread.thread_id}") in [(e.name, e.payload, e.to) for e in sent_events]


def test_chat_identifying_details_warn_then_hold(app: Flask, partner: Account, partner_client: FlaskClient,
                                                other_partner_client: FlaskClient, connect) -> None:
    listener = connect(other_partner_client)
    assert listener.emit("join", {"room_id": room_id(app)}, callback=True)["ok"] is True
    sock = connect(partner_client)
    before = snapshot(app)  # after connecting: the open sockets have their own rows
    nudge = sock.emit("send", {"room_id": room_id(app), "body": IDENTIFYING, "client_id": "ident-01"}, callback=True)
    assert nudge["ok"] is False and nudge["code"] == "confirm" and nudge["confirm"] == "identifying"
    assert "identify you or someone else" in nudge["error"]
    assert snapshot(app) == before
    listener.get_received()
    held = sock.emit("send", {"room_id": room_id(app), "body": IDENTIFYING, "client_id": "ident-01",
                              "confirmed": True}, callback=True)
    assert held["ok"] is False and held["code"] == "held"
    assert [p for p in listener.get_received() if p["name"] == "chat"] == []
    item = item_for(app, held["id"], "chat")
    assert "pii:phone" in item.labels and item.priority == PRIORITY_IDENTIFYING
    assert [n.kind for n in notices_of(app, partner.id)] == ["held"]


def test_crisis_in_chat_is_published_at_once_with_support_for_the_author(
        app: Flask, partner_client: FlaskClient, other_partner_client: FlaskClient, connect) -> None:
    listener = connect(other_partner_client)
    assert listener.emit("join", {"room_id": room_id(app)}, callback=True)["ok"] is True
    listener.get_received()
    ack = connect(partner_client).emit("send", {"room_id": room_id(app), "body": "I just want to die tonight.",
                                                "client_id": "crisis-01"}, callback=True)
    assert ack["ok"] is True and ack["crisis"] is True
    (added,) = [p["args"][0] for p in listener.get_received() if p["name"] == "chat"]
    assert added["op"] == "add" and added["id"] == ack["id"]  # never blocked, never held
    assert item_for(app, ack["id"], "chat").priority == PRIORITY_CRISIS


def test_the_number_of_held_first_posts_is_configurable(app: Flask, other_partner: Account,
                                                        partner_thread: Made, moderator_client: FlaskClient) -> None:
    app.config["NEW_MEMBER_HELD_POSTS"] = 1
    make_new(app, other_partner)
    newcomer = client_for(app, other_partner)
    newcomer.post(f"/posts/{partner_thread.post_id}/replies", data={"body": "My first words here."})
    (held,) = open_items(app)
    assert post_status(app, held.item_id) == "held"
    # With the setting at 1, one approved post is enough.
    moderator_client.post(f"/moderation/items/{held.id}/approve")
    newcomer.post(f"/posts/{partner_thread.post_id}/replies", data={"body": "And my second."})
    with app.app_context():
        second = db.session.scalar(select(Post).where(Post.body_source == "And my second."))
        assert second is not None and second.status == "published"


def test_a_title_that_screening_holds_keeps_the_body_as_written(app: Flask, partner_client: FlaskClient,
                                                                 moderator_client: FlaskClient) -> None:
    _watch(moderator_client, "zebracorn", "hold")
    response = partner_client.post(f"/rooms/{PARTNER_ROOM}/threads",
                                   data={"title": "About the zebracorn", "body": "The body I wrote."})
    assert response.status_code == 302
    with app.app_context():
        from forum.rooms.models import Thread

        (post,) = db.session.scalars(select(Post)).all()
        thread = db.session.get(Thread, post.thread_id)
        assert thread is not None
        assert (post.status, post.body_source) == ("held", "The body I wrote.")
        assert (thread.status, thread.title) == ("held", "About the zebracorn")
@pytest.mark.parametrize("path", ["thread", "reply", "edit"])
def test_a_content_warning_is_screened_like_the_text_it_sits_on(
        app: Flask, path: str, partner_client: FlaskClient, partner_thread: Made,
        moderator_client: FlaskClient) -> None:
    _watch(moderator_client, "zebracorn", "refuse")
    before = snapshot(app)
    refused = _write(partner_client, path, partner_thread, "Ordinary words.", content_warning="z3bracorn")
    assert refused.status_code == 422
    assert snapshot(app) == before
    asked = _write(partner_client, path, partner_thread, "Ordinary words.", content_warning="text 07700 900123",
                   submit_key="warning-key-1")
    assert asked.status_code == 409 and "identify you or someone else" in asked.get_data(as_text=True)
    assert snapshot(app) == before
    anyway = _write(partner_client, path, partner_thread, "Ordinary words.", content_warning="text 07700 900123",
                    submit_key="warning-key-1", confirmed="yes")
    assert anyway.status_code == 302
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.content_warning == "text 07700 900123"))
        assert post is not None and post.body_source == "Ordinary words."
        post_id = post.id
    assert post_status(app, post_id) == "held"
    assert "pii:phone" in item_for(app, post_id).labels


def test_a_content_warning_naming_hard_topics_is_not_a_crisis(app: Flask, partner_client: FlaskClient,
                                                             partner_thread: Made) -> None:
    warning = "suicide, self-harm, wanting to die"
    response = _write(partner_client, "reply", partner_thread, "What helped me through the worst year.",
                      content_warning=warning)
    assert response.status_code == 302
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.content_warning == warning))
        assert post is not None and post.status == "published"
    assert open_items(app) == []
    assert 'class="crisis-box"' not in partner_client.get(response.headers["Location"]).get_data(as_text=True)

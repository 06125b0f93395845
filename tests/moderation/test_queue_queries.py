"""The queue page reads a fixed number of queries however many items wait (no query per item),
and every item still comes with its context: thread, the post it answers, the chat lines
before it, who flagged it and the author's history."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Account
from tests.moderation.conftest import client_for, flag, open_items, send_chat
from tests.rooms.conftest import PARTNER_ROOM, add_reply, count_queries, start_thread


def _queue_queries(app: Flask, client: FlaskClient) -> tuple[int, str]:
    client.get("/moderation")
    with count_queries(app) as statements:
        response = client.get("/moderation")
    assert response.status_code == 200
    return len(statements), response.get_data(as_text=True)


def _flag_some(app: Flask, author: Account, flagger: FlaskClient, numbers: range) -> None:
    for i in numbers:
        made = start_thread(app, author, PARTNER_ROOM, f"Thread {i}", f"Opening words {i}.")
        reply = add_reply(app, author, made.post_id, f"Reply words {i}.")
        assert flag(flagger, reply).status_code in (302, 303)
        send_chat(app, author, f"An earlier line {i}.")
        line = send_chat(app, author, f"A flagged line {i}.")
        assert flag(flagger, line, item_type="chat").status_code in (302, 303)


def test_queue_queries_do_not_grow_with_the_items(app: Flask, partner: Account, other_partner: Account,
                                                  moderator_client: FlaskClient) -> None:
    app.config["CHAT_RATE_LIMIT"] = "1000 per 10 seconds"  # the lines are sent back to back
    flagger = client_for(app, other_partner)
    _flag_some(app, partner, flagger, range(1))
    few, _ = _queue_queries(app, moderator_client)
    _flag_some(app, partner, flagger, range(1, 6))
    assert len(open_items(app)) == 12
    many, html = _queue_queries(app, moderator_client)
    assert many == few
    for i in range(6):
        assert f"Reply words {i}." in html and f"Opening words {i}." in html  # the item and what it answers
        assert f"A flagged line {i}." in html and f"An earlier line {i}." in html  # the line and the one before
    assert html.count("Gentle Cedar 12") >= 12  # the flagger, on every item

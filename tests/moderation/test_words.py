"""Watched words managed in the web interface change screening at once; the seed loads the starter list."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum.db import db
from forum.moderation.models import WatchedWord
from forum.moderation.screening import normalize_for_matching
from forum.moderation.starter_terms import STARTER_TERMS
from tests.conftest import Account
from tests.moderation.conftest import log_entries, post_status
from tests.rooms.conftest import Made


def _reply(client: FlaskClient, made: Made, body: str):  # type: ignore[no-untyped-def]
    return client.post(f"/threads/{made.thread_id}/replies", data={"body": body})


def _word_id(app: Flask, phrase: str) -> int:
    with app.app_context():
        word_id = db.session.scalar(select(WatchedWord.id).where(
            WatchedWord.normalized == normalize_for_matching(phrase)))
        assert word_id is not None
        return word_id


def test_the_seed_loads_the_starter_list(app: Flask) -> None:
    distinct = {normalize_for_matching(term.phrase) for term in STARTER_TERMS}
    with app.app_context():
        assert db.session.scalar(select(func.count(WatchedWord.id))) == len(distinct) > 20
        from forum.cli import seed

        assert seed(db.session)["watched_words"] == 0  # running it again adds nothing


def test_a_word_added_by_a_moderator_refuses_text_at_once(app: Flask, partner_thread: Made,
                                                          other_partner_client: FlaskClient,
                                                          moderator: Account, moderator_client: FlaskClient) -> None:
    assert _reply(other_partner_client, partner_thread, "Try snakeoilpills, they work").status_code == 302
    response = moderator_client.post("/moderation/words", data={"phrase": "SnakeOilPills", "action": "refuse",
                                                                "label": "spam"})
    assert response.status_code == 302
    assert "SnakeOilPills" in moderator_client.get("/moderation/words").get_data(as_text=True)
    refused = _reply(other_partner_client, partner_thread, "Try sn4ke0ilpills, they work")
    assert refused.status_code == 422
    (entry,) = log_entries(app, "word_add")
    assert entry.moderator_id == moderator.id and entry.before["new_phrase"] == "SnakeOilPills"

    moderator_client.post(f"/moderation/words/{_word_id(app, 'SnakeOilPills')}/delete")
    assert _reply(other_partner_client, partner_thread, "Try snakeoilpills again").status_code == 302
    (removed,) = log_entries(app, "word_remove")
    assert removed.before["phrase"] == "SnakeOilPills" and removed.before["action"] == "refuse"


def test_hold_flag_and_replace_words(app: Flask, partner_thread: Made, other_partner_client: FlaskClient,
                                     moderator_client: FlaskClient) -> None:
    moderator_client.post("/moderation/words", data={"phrase": "bluebird", "action": "hold"})
    moderator_client.post("/moderation/words", data={"phrase": "greenfinch", "action": "flag"})
    moderator_client.post("/moderation/words", data={"phrase": "redkite", "action": "replace",
                                                     "replacement": "[bird]"})
    _reply(other_partner_client, partner_thread, "I saw a bluebird today")
    _reply(other_partner_client, partner_thread, "I saw a greenfinch today")
    _reply(other_partner_client, partner_thread, "I saw a redkite today")
    with app.app_context():
        from forum.rooms.models import Post

        rows = db.session.execute(select(Post.id, Post.body_source).where(Post.id > partner_thread.post_id)
                                  .order_by(Post.id)).all()
    (held_id, _), (flagged_id, _), (_, replaced_text) = rows
    assert post_status(app, held_id) == "held"
    assert post_status(app, flagged_id) == "published"
    assert replaced_text == "I saw a [bird] today"
    queue_page = moderator_client.get("/moderation").get_data(as_text=True)
    assert "I saw a bluebird today" in queue_page and "I saw a greenfinch today" in queue_page


def test_adding_a_word_reports_every_problem(app: Flask, moderator_client: FlaskClient) -> None:
    response = moderator_client.post("/moderation/words", data={"phrase": "", "action": "explode"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "can&#39;t be empty" in page and "Please choose what happens" in page
    with app.app_context():
        assert db.session.scalar(select(func.count(WatchedWord.id)).where(WatchedWord.action == "explode")) == 0
    assert log_entries(app, "word_add") == []


def test_a_duplicate_spelling_is_refused(app: Flask, moderator_client: FlaskClient) -> None:
    moderator_client.post("/moderation/words", data={"phrase": "you are a bluebird", "action": "flag"})
    duplicate = moderator_client.post("/moderation/words", data={"phrase": "You're a  BLUEBIRD", "action": "refuse"})
    assert duplicate.status_code == 400
    assert "already on the list" in duplicate.get_data(as_text=True)

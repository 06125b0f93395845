"""A watched word added by another server process reaches this one within the recheck interval.

A change made in this process applies at once (tests/moderation/test_words.py); the
compiled list is otherwise re-validated against the table at most every
``WORDS_RECHECK_SECONDS``, so the version query stays off every single message.
"""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forum.db import db
from forum.moderation import pipeline
from forum.moderation.models import WatchedWord
from tests.rooms.conftest import Made


def test_a_word_written_by_another_process_applies_after_the_recheck_interval(
        app: Flask, partner_thread: Made, other_partner_client: FlaskClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [time.monotonic()]
    monkeypatch.setattr(pipeline.time, "monotonic", lambda: clock[0])

    def reply(body: str) -> int:
        return other_partner_client.post(f"/threads/{partner_thread.thread_id}/replies",
                                         data={"body": body}).status_code

    assert reply("a quokkamancer wrote this") == 302  # compiles and caches the list
    with app.app_context():  # as another process would: straight into the table, no local invalidation
        db.session.add(WatchedWord(phrase="quokkamancer", normalized="quokkamancer", action="refuse",
                                   label="test"))
        db.session.commit()
    assert reply("a quokkamancer wrote this too") == 302  # still within the interval
    clock[0] += pipeline.WORDS_RECHECK_SECONDS + 0.1
    assert reply("a quokkamancer once more") == 422

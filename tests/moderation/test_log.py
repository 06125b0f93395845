"""The moderation log: an entry per action with the state before, filters, pages, append-only."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, update

from forum.db import db
from forum.moderation.log import AppendOnlyViolation, record
from forum.moderation.models import ModerationLog
from tests.conftest import Account
from tests.moderation.conftest import flag, item_for, log_entries
from tests.rooms.conftest import Made, add_reply


def test_every_action_leaves_an_entry_with_who_what_and_before(
        app: Flask, partner: Account, partner_thread: Made, other_partner_client: FlaskClient,
        moderator: Account, moderator_client: FlaskClient) -> None:
    reply = add_reply(app, partner, partner_thread.post_id, "A reply to moderate.")
    flag(other_partner_client, reply, "spam")
    item = item_for(app, reply)
    moderator_client.post(f"/moderation/items/{item.id}/claim")
    moderator_client.post(f"/moderation/members/{partner.id}/warn", data={"note": "Gentle reminder."})
    moderator_client.post(f"/moderation/members/{partner.id}/mute", data={"hours": "1"})
    moderator_client.post(f"/moderation/items/{item.id}/remove", data={"reason": "spam"})
    entries = log_entries(app)
    assert [e.action for e in entries] == ["claim", "warn", "mute", "remove"]
    assert all(e.moderator_id == moderator.id and e.member_id == partner.id and e.created_at for e in entries)
    assert entries[0].before == {"claimed_by_id": None}
    assert entries[2].before == {"muted_until": None}
    assert entries[3].before["status"] == "published" and entries[3].before["flag_count"] == 1

    page = moderator_client.get("/moderation/log").get_data(as_text=True)
    for text in ("Claimed", "Warned", "Muted", "Removed", "Gentle reminder.", moderator.pseudonym, partner.pseudonym):
        assert text in page


def test_the_log_filters_by_member_and_by_moderator(app: Flask, partner: Account, other_partner: Account,
                                                    moderator: Account, second_moderator: Account,
                                                    moderator_client: FlaskClient,
                                                    second_moderator_client: FlaskClient) -> None:
    moderator_client.post(f"/moderation/members/{partner.id}/warn", data={"note": "first-note"})
    second_moderator_client.post(f"/moderation/members/{other_partner.id}/warn", data={"note": "second-note"})
    by_member = moderator_client.get("/moderation/log", query_string={"member": partner.pseudonym.upper()})
    assert "first-note" in by_member.get_data(as_text=True) and "second-note" not in by_member.get_data(as_text=True)
    by_moderator = moderator_client.get("/moderation/log", query_string={"moderator": second_moderator.pseudonym})
    text = by_moderator.get_data(as_text=True)
    assert "second-note" in text and "first-note" not in text
    both = moderator_client.get("/moderation/log", query_string={"member": partner.pseudonym,
                                                                 "moderator": second_moderator.pseudonym})
    assert "first-note" not in both.get_data(as_text=True) and "0 entries" in both.get_data(as_text=True)
    unknown = moderator_client.get("/moderation/log", query_string={"member": "Nobody By This Name"})
    assert "0 entries" in unknown.get_data(as_text=True)


def test_the_log_is_paginated(app: Flask, partner: Account, moderator: Account,
                              moderator_client: FlaskClient) -> None:
    app.config["MODERATION_LOG_PAGE"] = 2
    for n in range(5):
        moderator_client.post(f"/moderation/members/{partner.id}/warn", data={"note": f"note-{n}"})
    first = moderator_client.get("/moderation/log").get_data(as_text=True)
    assert "note-4" in first and "note-3" in first and "note-2" not in first
    assert "page 1 of 3" in first
    third = moderator_client.get("/moderation/log?page=3").get_data(as_text=True)
    assert "note-0" in third
    assert moderator_client.get("/moderation/log?page=4").status_code == 404
    filtered = moderator_client.get("/moderation/log", query_string={"member": partner.pseudonym}).get_data(
        as_text=True)
    assert "member=Quiet+Harbor+11" in filtered and "page=2" in filtered


def test_log_rows_cannot_be_changed_or_deleted(app: Flask, moderator: Account) -> None:
    with app.app_context():
        record(db.session, None, "warn", reason="original")
        db.session.commit()
        entry = db.session.scalar(select(ModerationLog))
        assert entry is not None
        entry.reason = "rewritten"
        with pytest.raises(AppendOnlyViolation):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalar(select(ModerationLog)))
        with pytest.raises(AppendOnlyViolation):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(AppendOnlyViolation):
            db.session.execute(update(ModerationLog).values(reason="rewritten"))
        with pytest.raises(AppendOnlyViolation):
            db.session.execute(delete(ModerationLog))
        db.session.rollback()
        assert db.session.scalar(select(ModerationLog.reason)) == "original"
        # The one accepted change: forgetting who a deleted member was.
        db.session.execute(update(ModerationLog).values(member_id=None))
        db.session.commit()


def test_no_module_writes_to_the_log_except_through_record() -> None:
    """Source check: nothing but forum.moderation.log constructs a ModerationLog row."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "forum"
    offenders = [str(path) for path in root.rglob("*.py")
                 if "ModerationLog(" in path.read_text() and path.name != "log.py" and path.name != "models.py"]
    assert offenders == []

"""Export: a JSON download of everything Haven holds about the member, and nothing of others."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient

from forum.accounts.models import MemberMute, Notice
from forum.chat.models import ChatMessage
from forum.db import db
from forum.moderation.models import Flag
from forum.rooms.models import Room
from tests.conftest import Account
from tests.safety.conftest import add_reply, start_thread


def _seed(app: Flask, partner: Account, other_partner: Account) -> dict[str, int]:
    others = start_thread(app, other_partner, "Other member's thread title", "Other member's private words.")
    mine = add_reply(app, partner, others.post_id, "My reply in their thread.", warning="Relapse")
    own = start_thread(app, partner, "My own thread", "My opening words.")
    add_reply(app, other_partner, own.post_id, "Their reply in my thread.")
    with app.app_context():
        room = db.session.query(Room).filter_by(slug="just-found-out").one()
        db.session.add_all([
            ChatMessage(room_id=room.id, author_id=partner.id, body="My chat line.", body_html="My chat line."),
            ChatMessage(room_id=room.id, author_id=other_partner.id, body="Their chat line.",
                        body_html="Their chat line."),
            Flag(item_type="post", item_id=others.post_id, member_id=partner.id, reason="unkind",
                 note="My note on a flag."),
            Flag(item_type="post", item_id=mine, member_id=other_partner.id, reason="spam",
                 note="Their note about me."),
            MemberMute(muter_id=partner.id, muted_id=other_partner.id),
            MemberMute(muter_id=other_partner.id, muted_id=partner.id),
            Notice(member_id=partner.id, kind="held", body="A notice for me."),
            Notice(member_id=other_partner.id, kind="held", body="A notice for them."),
        ])
        db.session.commit()
    return {"reply": mine, "thread": own.thread_id}


def test_export_holds_everything_about_the_member(app: Flask, partner: Account, other_partner: Account,
                                                 partner_client: FlaskClient) -> None:
    ids = _seed(app, partner, other_partner)
    assert "password" in partner_client.get("/account/export").get_data(as_text=True)
    response = partner_client.post("/account/export", data={"password": partner.password})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="haven-export.json"'
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))

    assert data["profile"]["pseudonym"] == "Quiet Harbor 11"
    assert data["profile"]["path"] == "partner" and data["profile"]["role"] == "member"
    assert data["profile"]["created_at"]
    texts = {p["text"] for p in data["posts"]}
    assert texts == {"My reply in their thread.", "My opening words."}
    reply = next(p for p in data["posts"] if p["id"] == ids["reply"])
    assert reply["thread_title"] == "Other member's thread title" and reply["content_warning"] == "Relapse"
    assert [t["title"] for t in data["threads_started"]] == ["My own thread"]
    assert [m["text"] for m in data["chat_messages"]] == ["My chat line."]
    assert [(f["reason"], f["note"]) for f in data["flags_made"]] == [("unkind", "My note on a flag.")]
    assert len(data["mutes"]) == 1 and data["mutes"][0]["since"]
    assert [n["text"] for n in data["notices"]] == ["A notice for me."]
    assert data["open_sessions"] == 1
    (current,) = data["sessions"]
    assert current["this_session"] is True and current["started_at"] and current["last_used_at"]


def test_export_holds_nothing_of_other_members(app: Flask, partner: Account, other_partner: Account,
                                              partner_client: FlaskClient) -> None:
    _seed(app, partner, other_partner)
    body = partner_client.post("/account/export", data={"password": partner.password}).get_data(as_text=True)
    for theirs in ("Gentle Cedar 12", "Other member's private words.", "Their reply in my thread.",
                   "Their chat line.", "Their note about me.", "A notice for them.", "spam"):
        assert theirs not in body, theirs
    for secret in ("argon2", partner.recovery_code, "auth_token", "totp_secret"):
        assert secret not in body


def test_export_needs_the_password(app: Flask, partner: Account, partner_client: FlaskClient,
                                   client: FlaskClient) -> None:
    response = partner_client.post("/account/export", data={"password": "not my password at all"})
    assert response.status_code == 400 and "That password isn" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert client.post("/account/export", data={"password": partner.password}).status_code == 302  # log in first


def test_export_lists_every_session_and_a_moderators_own_work(app: Flask, moderator: Account,
                                                             moderator_client: FlaskClient) -> None:
    from tests.conftest import login

    login(app.test_client(), moderator)  # a second device
    assert moderator_client.post("/moderation/words", data={"phrase": "grey heron", "action": "hold"}).status_code == 302
    data = json.loads(moderator_client.post("/account/export", data={"password": moderator.password}).data)
    assert data["open_sessions"] == 2
    assert sorted(s["this_session"] for s in data["sessions"]) == [False, True]
    assert [(w["phrase"], w["action"]) for w in data["watched_words_added"]] == [("grey heron", "hold")]
    assert [a["action"] for a in data["moderation_actions"]] == ["word_add"]
    body = json.dumps(data)
    assert "127.0.0.1" not in body and "id_hash" not in body and "csrf" not in body

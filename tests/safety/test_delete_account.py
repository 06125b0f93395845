"""Deleting an account: consequences shown, password asked, posts kept as "a former member" or
removed; either way no row anywhere carries the pseudonym, sessions end and sockets close."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum.accounts.models import Member, MemberMute, Notice, WebSession
from forum.chat.models import ChatMessage, LiveSocket
from forum.db import db
from forum.extensions import socketio
from forum.models import Base
from forum.moderation.models import Flag
from forum.rooms.models import Post, Room, Thread
from tests.conftest import Account, login
from tests.safety.conftest import add_reply, rows_containing, start_thread

PSEUDONYM = "Quiet Harbor 11"


@pytest.fixture
def closed_sockets(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    closed: list[str] = []
    monkeypatch.setattr(socketio.server, "disconnect", lambda sid, namespace=None: closed.append(sid))
    return closed


def _seed(app: Flask, partner: Account, other_partner: Account) -> dict[str, int]:
    theirs = start_thread(app, other_partner, "Their thread", "Their opening words.")
    my_reply = add_reply(app, partner, theirs.post_id, "My reply to them.")
    their_answer = add_reply(app, other_partner, my_reply, "Their answer to my reply.")
    answered = start_thread(app, partner, "My answered thread", "My words they answered.")
    add_reply(app, other_partner, answered.post_id, "Their reply in my thread.")
    lonely = start_thread(app, partner, "My lonely thread", "My words nobody answered.")
    with app.app_context():
        room = db.session.scalars(select(Room).where(Room.slug == "just-found-out")).one()
        db.session.add_all([
            ChatMessage(room_id=room.id, author_id=partner.id, body="My chat line.", body_html="My chat line."),
            ChatMessage(room_id=room.id, author_id=other_partner.id, body="Their chat line.",
                        body_html="Their chat line."),
            Flag(item_type="post", item_id=theirs.post_id, member_id=partner.id, reason="unkind"),
            MemberMute(muter_id=partner.id, muted_id=other_partner.id),
            MemberMute(muter_id=other_partner.id, muted_id=partner.id),
            Notice(member_id=partner.id, kind="held", body="A notice for me."),
            LiveSocket(sid="sock-of-the-member", member_id=partner.id, room_id=room.id),
            LiveSocket(sid="sock-of-someone-else", member_id=other_partner.id, room_id=room.id),
        ])
        db.session.commit()
    return {"their_thread": theirs.thread_id, "my_reply": my_reply, "their_answer": their_answer,
            "answered": answered.thread_id, "answered_post": answered.post_id, "lonely": lonely.thread_id}


def _count(model: type) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_page_states_consequences_and_asks_for_password(partner_client: FlaskClient) -> None:
    html = partner_client.get("/account/delete").get_data(as_text=True)
    for phrase in ("can’t be undone", "A former member", "Remove the text of all my posts", "chat messages",
                   'type="password"', "download your data"):
        assert phrase in html, phrase
    assert 'href="/account/delete"' in partner_client.get("/account").get_data(as_text=True)


def test_delete_keeping_posts(app: Flask, partner: Account, other_partner: Account, partner_client: FlaskClient,
                              other_partner_client: FlaskClient, closed_sockets: list[str]) -> None:
    ids = _seed(app, partner, other_partner)
    second_device = login(app.test_client(), partner)
    response = partner_client.post("/account/delete", data={"password": partner.password, "posts": "keep"})
    assert response.status_code == 200 and "Your account is deleted" in response.get_data(as_text=True)
    assert "Clear-Site-Data" in response.headers

    assert rows_containing(app, PSEUDONYM) == []
    assert closed_sockets == ["sock-of-the-member"]
    for who in (partner_client, second_device):
        assert who.get("/rooms").headers["Location"].startswith("/login")
    with app.app_context():
        assert db.session.get(Member, partner.id) is None
        # Only the other member's session is tied to anyone (the redirects above made anonymous ones).
        assert set(db.session.scalars(select(WebSession.member_id))) - {None} == {other_partner.id}
        assert db.session.scalars(select(ChatMessage.body)).all() == ["Their chat line."]
        assert _count(Flag) == 0 and _count(MemberMute) == 0 and _count(Notice) == 0
        assert db.session.scalars(select(LiveSocket.sid)).all() == ["sock-of-someone-else"]
        kept = db.session.get_one(Post, ids["my_reply"])
        assert kept.author_id is None and kept.body_source == "My reply to them."
    html = other_partner_client.get(f"/threads/{ids['their_thread']}").get_data(as_text=True)
    assert "My reply to them." in html and "A former member" in html and PSEUDONYM not in html
    assert "Their answer to my reply." in html


def test_delete_removing_posts(app: Flask, partner: Account, other_partner: Account, partner_client: FlaskClient,
                               other_partner_client: FlaskClient, closed_sockets: list[str]) -> None:
    ids = _seed(app, partner, other_partner)
    response = partner_client.post("/account/delete", data={"password": partner.password, "posts": "remove"})
    assert response.status_code == 200

    for gone in (PSEUDONYM, "My reply to them.", "My words they answered.", "My words nobody answered.",
                 "My chat line.", "My lonely thread"):
        assert rows_containing(app, gone) == [], gone
    assert closed_sockets == ["sock-of-the-member"]
    with app.app_context():
        assert db.session.get(Thread, ids["lonely"]) is None  # nobody answered: gone entirely
        answered = db.session.get_one(Thread, ids["answered"])  # others answered: stays, titled
        assert answered.author_id is None and answered.title == "My answered thread"
        # The emptied opening post still heads the thread (Thread.post_count): one reply shown, not none.
        assert answered.post_count == 2 and answered.reply_count == 1
        opening = db.session.get_one(Post, ids["answered_post"])
        assert opening.status == "deleted" and opening.body_source == "" and opening.author_id is None
        assert db.session.get_one(Post, ids["their_answer"]).body_source == "Their answer to my reply."
    html = other_partner_client.get(f"/threads/{ids['their_thread']}").get_data(as_text=True)
    assert "My reply to them." not in html and "Their answer to my reply." in html
    assert other_partner_client.get(f"/threads/{ids['answered']}").status_code == 200
    assert other_partner_client.get(f"/threads/{ids['lonely']}").status_code == 404


def test_wrong_password_or_no_choice_deletes_nothing(app: Flask, partner: Account, other_partner: Account,
                                                    partner_client: FlaskClient, closed_sockets: list[str]) -> None:
    _seed(app, partner, other_partner)
    wrong = partner_client.post("/account/delete", data={"password": "not the password", "posts": "keep"})
    assert wrong.status_code == 400 and "That password isn" in wrong.get_data(as_text=True)
    no_choice = partner_client.post("/account/delete", data={"password": partner.password})
    assert no_choice.status_code == 400 and "what happens to your posts" in no_choice.get_data(as_text=True)
    assert partner_client.get("/rooms").status_code == 200
    assert closed_sockets == []
    with app.app_context():
        assert db.session.get(Member, partner.id) is not None
        assert _count(ChatMessage) == 2 and _count(MemberMute) == 2


def test_deleted_pseudonym_can_be_taken_again(app: Flask, partner: Account, partner_client: FlaskClient) -> None:
    partner_client.post("/account/delete", data={"password": partner.password, "posts": "keep"})
    response = app.test_client().post("/signup", data={"pseudonym": PSEUDONYM, "password": "a new calm password 9",
                                                       "path": "partner", "guidelines": "yes"})
    assert response.status_code == 200


def _member_references(app: Flask, member_id: int) -> list[tuple[str, str]]:
    """Every (table, column) of a column pointing at member.id that still holds ``member_id``."""
    found = []
    with app.app_context():
        with db.engine.connect() as conn:  # type: ignore[union-attr]
            for table in Base.metadata.sorted_tables:
                for column in table.columns:
                    if any(fk.column.table.name == "member" for fk in column.foreign_keys) or (
                            table.name == "member" and column.name == "id"):
                        if conn.execute(select(func.count()).select_from(table)
                                        .where(column == member_id)).scalar():
                            found.append((table.name, column.name))
    return found


@pytest.mark.parametrize("posts", ["keep", "remove"])
def test_no_row_carries_the_member_not_even_in_the_moderation_log(
        app: Flask, partner: Account, other_partner: Account, moderator: Account, partner_client: FlaskClient,
        other_partner_client: FlaskClient, moderator_client: FlaskClient, closed_sockets: list[str],
        posts: str) -> None:
    from forum.moderation.models import ModerationLog, ReviewItem

    _seed(app, partner, other_partner)
    chat_words, post_words = "my chat words about the red bicycle", "my post words about the red bicycle"
    made = start_thread(app, partner, "Bicycle", post_words)
    with app.app_context():
        room = db.session.scalars(select(Room).where(Room.slug == "just-found-out")).one()
        line = ChatMessage(room_id=room.id, author_id=partner.id, body=chat_words, body_html=chat_words)
        db.session.add(line)
        db.session.commit()
        line_id = line.id
    # Another member flags both; a moderator redacts both (the log keeps the words before) and warns.
    for item_type, item_id in (("chat", line_id), ("post", made.post_id)):
        assert other_partner_client.post("/flags", data={"item_type": item_type, "item_id": str(item_id),
                                                         "reason": "judgment"}).status_code in (200, 302)
        with app.app_context():
            item = db.session.scalars(select(ReviewItem).where(ReviewItem.item_type == item_type,
                                                               ReviewItem.item_id == item_id)).one()
        assert moderator_client.post(f"/moderation/items/{item.id}/redact",
                                     data={"text": "redacted by a moderator"}).status_code == 302
    with app.app_context():
        entries = db.session.scalar(select(func.count()).select_from(ModerationLog))
        redactions = db.session.scalars(select(ModerationLog).where(ModerationLog.action == "redact")).all()
        assert {e.before["text"] for e in redactions} == {chat_words, post_words}  # the test sees them first
    assert _member_references(app, partner.id)

    response = partner_client.post("/account/delete", data={"password": partner.password, "posts": posts})
    assert response.status_code == 200

    assert _member_references(app, partner.id) == []
    for gone in (PSEUDONYM, chat_words, post_words, "My chat line."):
        assert rows_containing(app, gone) == [], gone
    with app.app_context():
        # The log keeps every entry (append-only), now linked to nobody.
        assert db.session.scalar(select(func.count()).select_from(ModerationLog)) == entries
        for entry in db.session.scalars(select(ModerationLog).where(ModerationLog.action == "redact")):
            assert entry.member_id is None and entry.moderator_id == moderator.id and entry.before["text"] is None
    assert closed_sockets == ["sock-of-the-member"]


def test_the_log_accepts_forgetting_text_and_nothing_more(app: Flask, moderator: Account) -> None:
    from sqlalchemy import update

    from forum.moderation.log import _FORGET_TEXT, AppendOnlyViolation, record
    from forum.moderation.models import ModerationLog

    with app.app_context():
        member = db.session.get_one(Member, moderator.id)
        entry = record(db.session, member, "redact", member_id=moderator.id, before={"text": "words"})
        db.session.commit()
        for values in ({"before": {"text": None}, "reason": "rewritten"}, {"reason": "rewritten"}):
            with pytest.raises(AppendOnlyViolation):
                db.session.execute(update(ModerationLog).where(ModerationLog.id == entry.id).values(**values)
                                   .execution_options(**{_FORGET_TEXT: True}))
            db.session.rollback()
        with pytest.raises(AppendOnlyViolation):  # without the deletion's mark, "before" stays as written
            db.session.execute(update(ModerationLog).values(before={}))
        db.session.rollback()


def test_a_moderator_leaving_leaves_their_actions_linked_to_nobody(
        app: Flask, partner: Account, other_partner_client: FlaskClient, moderator: Account,
        moderator_client: FlaskClient, closed_sockets: list[str]) -> None:
    from forum.moderation.models import ModerationLog, ReviewItem, WatchedWord

    made = start_thread(app, partner, "Hello", "Some words to flag.")
    other_partner_client.post("/flags", data={"item_type": "post", "item_id": str(made.post_id), "reason": "judgment"})
    with app.app_context():
        item = db.session.scalars(select(ReviewItem)).one()
    assert moderator_client.post(f"/moderation/items/{item.id}/claim").status_code == 302
    assert moderator_client.post("/moderation/words", data={"phrase": "blue heron", "action": "hold"}).status_code == 302
    assert set(_member_references(app, moderator.id)) >= {("review_item", "claimed_by_id"),
                                                          ("moderation_log", "moderator_id"),
                                                          ("watched_word", "created_by_id")}

    response = moderator_client.post("/account/delete", data={"password": moderator.password, "posts": "keep"})
    assert response.status_code == 200
    assert _member_references(app, moderator.id) == []
    assert rows_containing(app, "Calm Lantern 31") == []
    with app.app_context():
        assert "blue heron" in db.session.scalars(select(WatchedWord.phrase)).all()  # the word stays
        assert {e.action for e in db.session.scalars(select(ModerationLog))} >= {"claim", "word_add"}


def test_an_open_socket_is_closed_for_real(app: Flask, partner: Account, partner_client: FlaskClient) -> None:
    sock = socketio.test_client(app, flask_test_client=partner_client)
    assert sock.is_connected()
    partner_client.post("/account/delete", data={"password": partner.password, "posts": "keep"})
    assert not sock.is_connected()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LiveSocket)) == 0


def test_their_chat_lines_leave_open_chats(app: Flask, partner: Account, other_partner: Account,
                                           partner_client: FlaskClient, other_partner_client: FlaskClient) -> None:
    with app.app_context():
        room = db.session.scalars(select(Room).where(Room.slug == "just-found-out")).one()
        room_id = room.id
    watcher = socketio.test_client(app, flask_test_client=other_partner_client)
    assert watcher.emit("join", {"room_id": room_id}, callback=True)["ok"]
    author = socketio.test_client(app, flask_test_client=partner_client)
    assert author.emit("join", {"room_id": room_id}, callback=True)["ok"]
    sent = author.emit("send", {"room_id": room_id, "body": "a line that should go with me", "client_id": "leaving-1"},
                       callback=True)
    assert sent["ok"]
    watcher.get_received()

    partner_client.post("/account/delete", data={"password": partner.password, "posts": "keep"})
    removed = [p["args"][0] for p in watcher.get_received() if p["name"] == "chat"]
    watcher.disconnect()
    assert [(e["op"], e["id"]) for e in removed] == [("remove", sent["id"])]
    assert rows_containing(app, "a line that should go with me") == []

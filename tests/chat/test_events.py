"""Chat over Socket.IO, through Flask-SocketIO's test client sharing the HTTP login."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum.accounts.models import Member
from forum.chat import actions
from forum.chat.models import ChatMessage, LiveSocket
from forum.db import db, utcnow
from forum.events import Event
from forum.moderation.models import ReviewItem, WatchedWord
from forum.moderation.pipeline import invalidate_cache
from tests.chat.conftest import received, stored, update_member
from tests.conftest import Account, SentEvent, login, register


def _send(sock: Any, room: int, body: Any, **extra: Any) -> dict[str, Any]:
    return sock.emit("send", {"room_id": room, "body": body, **extra}, callback=True)


def _join(sock: Any, room: Any, **extra: Any) -> dict[str, Any]:
    return sock.emit("join", {"room_id": room, **extra}, callback=True)


# Who may connect and join ------------------------------------------------------------------

def test_visitor_socket_is_refused(client: FlaskClient, connect: Any) -> None:
    sock = connect(client)
    assert not sock.is_connected()


def test_member_joins_own_room_with_history_and_presence(partner_client: FlaskClient, connect: Any,
                                                         partner_room: int, app: Flask) -> None:
    sock = connect(partner_client)
    assert sock.is_connected()
    ack = _join(sock, partner_room)
    assert ack["ok"] is True and ack["room_id"] == partner_room
    assert ack["messages"] == [] and ack["present"] == 1
    with app.app_context():
        row = db.session.scalars(select(LiveSocket)).one()
        assert row.room_id == partner_room


def test_other_audience_looks_exactly_like_a_missing_room(recovery_client: FlaskClient, connect: Any,
                                                          partner_room: int) -> None:
    sock = connect(recovery_client)
    forbidden = _join(sock, partner_room)
    missing = _join(sock, 987654)
    junk = _join(sock, "just-found-out")
    assert forbidden == missing == junk
    assert forbidden["ok"] is False and forbidden["code"] == "not_found"
    # Sending, history and catch-up refuse the same way, and nothing reaches the room.
    assert _send(sock, partner_room, "hello") == missing
    assert sock.emit("history", {"room_id": partner_room, "before_id": 10}, callback=True) == missing
    assert sock.emit("since", {"room_id": partner_room, "after_seq": 0}, callback=True) == missing


def test_moderator_may_join_any_room_and_hears_the_queue(moderator_client: FlaskClient, connect: Any,
                                                         partner_room: int, recovery_room: int) -> None:
    sock = connect(moderator_client)
    assert _join(sock, partner_room)["ok"] and _join(sock, recovery_room)["ok"]


# Sending ------------------------------------------------------------------------------------

def test_message_is_acknowledged_stored_and_broadcast_to_the_room(
        app: Flask, partner_client: FlaskClient, other_partner_client: FlaskClient, recovery_client: FlaskClient,
        connect: Any, partner_room: int, recovery_room: int, partner: Account,
        sent_events: list[SentEvent]) -> None:
    alice, bob, outsider = connect(partner_client), connect(other_partner_client), connect(recovery_client)
    _join(alice, partner_room)
    _join(bob, partner_room)
    _join(outsider, recovery_room)
    for s in (alice, bob, outsider):
        s.get_received()
    ack = _send(alice, partner_room, "Hello <b>all</b>, see https://example.org")
    assert ack["ok"] is True and isinstance(ack["id"], int)
    assert ack["message"]["author"] == partner.pseudonym
    assert "&lt;b&gt;" in ack["message"]["html"] and '<a href="https://example.org"' in ack["message"]["html"]
    events = received(bob, "chat")
    assert [(e["op"], e["id"], e["room_id"]) for e in events] == [("add", ack["id"], partner_room)]
    assert events[0]["message"]["html"] == ack["message"]["html"]
    assert "author_id" not in events[0]["message"] and "client_id" not in events[0]["message"]
    assert received(outsider, "chat") == []
    chat_events = [e for e in sent_events if e.name == "chat"]
    assert [e.to for e in chat_events] == [f"room:{partner_room}"]
    assert stored(app) == [(partner_room, partner.id, "Hello <b>all</b>, see https://example.org", "published")]


def test_message_row_exists_when_the_event_leaves(app: Flask, partner_client: FlaskClient, connect: Any,
                                                  partner_room: int) -> None:
    from forum import events

    seen_in_db: list[bool] = []
    original = events._deliver

    def check(ev: Event) -> None:
        if ev.name == "chat":
            with app.app_context():
                s = db.new_session()
                seen_in_db.append(s.get(ChatMessage, ev.payload["id"]) is not None)
                s.close()
        original(ev)

    events.bind(check)
    try:
        sock = connect(partner_client)
        _join(sock, partner_room)
        assert _send(sock, partner_room, "stored first")["ok"]
    finally:
        events.bind(original)
    assert seen_in_db == [True]


@pytest.mark.parametrize(("body", "code"), [
    ("x" * 1001, "too_long"),
    ("x" * 100_000, "too_long"),
    ("", "empty"),
    ("   \n\t ", "empty"),
    ("\u3164\u200b", "empty"),
    (12345, "invalid"),
    (None, "invalid"),
    (["hello"], "invalid"),
    ({"nested": {"junk": [1, 2, {"x": None}]}}, "invalid"),
    ("bad \x00 byte", "invalid"),
])
def test_refused_messages_get_an_error_ack_and_store_nothing(app: Flask, partner_client: FlaskClient,
                                                             connect: Any, partner_room: int, body: Any,
                                                             code: str) -> None:
    sock = connect(partner_client)
    ack = _send(sock, partner_room, body)
    assert ack["ok"] is False and ack["code"] == code
    assert isinstance(ack["error"], str) and ack["error"]
    assert stored(app) == []
    assert sock.is_connected()


def test_exactly_1000_characters_is_accepted(partner_client: FlaskClient, connect: Any, partner_room: int) -> None:
    sock = connect(partner_client)
    assert _send(sock, partner_room, "y" * 1000)["ok"] is True


@pytest.mark.parametrize("payload", [
    None, "just a string", 42, [1, 2, 3], {}, {"room_id": None}, {"room_id": True, "body": "x"},
    {"room_id": 2**70, "body": "x"}, {"room_id": -1, "body": "x"}, {"room_id": "1", "body": "x"},
    {"room_id": [1], "body": "x"}, {"room_id": {"$gt": 0}, "body": "x"},
])
def test_malformed_payloads_are_answered_never_raised(app: Flask, partner_client: FlaskClient, connect: Any,
                                                      payload: Any) -> None:
    sock = connect(partner_client)
    for event in ("send", "join", "history", "since", "leave", "watch_thread"):
        ack = sock.emit(event, payload, callback=True)
        assert isinstance(ack, dict) and ack["ok"] is False, (event, payload, ack)
        assert ack["code"] in ("invalid", "not_found"), (event, payload, ack)
    assert stored(app) == []
    assert sock.is_connected()


@pytest.mark.parametrize("extra", [
    {"client_id": {"a": 1}}, {"client_id": "short"}, {"client_id": "x" * 65}, {"client_id": "bad id with spaces"},
    {"confirmed": "yes"}, {"confirmed": 1},
])
def test_malformed_send_fields_are_refused(app: Flask, partner_client: FlaskClient, connect: Any,
                                           partner_room: int, extra: dict[str, Any]) -> None:
    ack = _send(connect(partner_client), partner_room, "hello", **extra)
    assert ack["ok"] is False and ack["code"] == "invalid"
    assert stored(app) == []


def test_extra_arguments_are_refused(partner_client: FlaskClient, connect: Any, partner_room: int) -> None:
    sock = connect(partner_client)
    ack = sock.emit("send", {"room_id": partner_room, "body": "a"}, {"more": 1}, callback=True)
    assert ack["ok"] is False and ack["code"] == "invalid"


def test_muted_member_cannot_send(app: Flask, partner_client: FlaskClient, partner: Account, connect: Any,
                                  partner_room: int) -> None:
    sock = connect(partner_client)
    update_member(app, partner.id, muted_until=utcnow() + timedelta(hours=1))
    ack = _send(sock, partner_room, "can anyone hear me")
    assert ack["ok"] is False and ack["code"] == "muted"
    assert "mute" in ack["error"]
    assert stored(app) == []
    assert _join(sock, partner_room)["ok"] is True  # still reads


def test_rate_limit_allows_five_in_ten_seconds(app: Flask, partner_client: FlaskClient, connect: Any,
                                               partner_room: int, other_partner_client: FlaskClient) -> None:
    sock = connect(partner_client)
    acks = [_send(sock, partner_room, f"message {i}") for i in range(6)]
    assert [a["ok"] for a in acks] == [True] * 5 + [False]
    assert acks[5]["code"] == "rate_limited" and "fast" in acks[5]["error"]
    assert len(stored(app)) == 5
    # The limit is per member: another member is unaffected.
    assert _send(connect(other_partner_client), partner_room, "my turn")["ok"] is True


def test_a_resend_never_counts_against_the_limit_and_a_refusal_takes_no_number(
        app: Flask, partner_client: FlaskClient, connect: Any, partner_room: int,
        moderator_client: FlaskClient) -> None:
    """A member whose answer was lost resends under the same id, even at the limit: they get the line
    they sent. A line refused as too fast is not stored and uses up no change number."""
    sock = connect(partner_client)
    acks = [_send(sock, partner_room, f"message {i}", client_id=f"limit-key-{i:04d}") for i in range(5)]
    assert all(a["ok"] for a in acks)
    again = _send(sock, partner_room, "message 4", client_id="limit-key-0004")
    assert again["ok"] is True and again["id"] == acks[4]["id"]
    too_fast = _send(sock, partner_room, "message 5", client_id="limit-key-0005")
    assert too_fast["code"] == "rate_limited"
    assert len(stored(app)) == 5
    others = connect(moderator_client)  # a different member: the next line takes the very next number
    nxt = _send(others, partner_room, "after the refusal", client_id="next-key-0001")
    assert nxt["ok"] is True and nxt["message"]["seq"] == acks[4]["message"]["seq"] + 1


def test_a_client_id_reused_in_another_room_is_refused(app: Flask, moderator_client: FlaskClient, connect: Any,
                                                       partner_room: int, recovery_room: int) -> None:
    sock = connect(moderator_client)  # moderators may write in both rooms
    assert _send(sock, partner_room, "first room", client_id="room-key-0001")["ok"] is True
    other = _send(sock, recovery_room, "first room", client_id="room-key-0001")
    assert other["ok"] is False and other["code"] == "invalid"
    assert len(stored(app)) == 1


def test_a_resend_with_the_same_client_id_is_stored_once(app: Flask, partner_client: FlaskClient,
                                                         other_partner_client: FlaskClient, connect: Any,
                                                         partner_room: int) -> None:
    sock, listener = connect(partner_client), connect(other_partner_client)
    _join(listener, partner_room)
    listener.get_received()
    first = _send(sock, partner_room, "only once please", client_id="resend-key-0001")
    again = _send(sock, partner_room, "only once please", client_id="resend-key-0001")
    assert first["ok"] and again["ok"] and first["id"] == again["id"]
    assert len(stored(app)) == 1
    assert len(received(listener, "chat")) == 1


def test_the_http_form_uses_the_same_write_path(app: Flask, partner_client: FlaskClient,
                                                other_partner_client: FlaskClient, recovery_client: FlaskClient,
                                                connect: Any, partner_room: int) -> None:
    listener = connect(other_partner_client)
    _join(listener, partner_room)
    listener.get_received()
    response = partner_client.post("/rooms/just-found-out/chat", data={"body": "from the form"})
    assert response.status_code == 302
    [event] = received(listener, "chat")
    assert event["op"] == "add" and "from the form" in event["message"]["html"]
    page = partner_client.get("/rooms/just-found-out/chat").get_data(as_text=True)
    assert "from the form" in page and 'for="chat-input">Message<' in page
    too_long = partner_client.post("/rooms/just-found-out/chat", data={"body": "z" * 1001})
    assert too_long.status_code == 400 and "at most 1,000 characters" in too_long.get_data(as_text=True)
    assert recovery_client.post("/rooms/just-found-out/chat", data={"body": "hi"}).status_code == 404
    assert recovery_client.get("/rooms/just-found-out/chat").status_code == 404
    assert len(stored(app)) == 1


def test_room_page_carries_the_chat_panel(partner_client: FlaskClient, partner_room: int) -> None:
    page = partner_client.get("/rooms/just-found-out").get_data(as_text=True)
    assert f'data-room-id="{partner_room}"' in page
    assert 'aria-live="polite"' in page and "/static/vendor/socket.io.min.js" in page
    assert "<script>" not in page  # CSP: no inline script


# Screening ----------------------------------------------------------------------------------

def _watch(app: Flask, phrase: str, action: str) -> None:
    with app.app_context():
        db.session.add(WatchedWord(phrase=phrase, normalized=phrase.lower(), action=action, label="test"))
        db.session.commit()
        invalidate_cache()


def test_held_message_is_stored_for_review_and_shown_to_nobody_else(
        app: Flask, partner_client: FlaskClient, other_partner_client: FlaskClient, connect: Any,
        partner_room: int) -> None:
    _watch(app, "zebracorn", "hold")
    sock, listener = connect(partner_client), connect(other_partner_client)
    _join(listener, partner_room)
    listener.get_received()
    ack = _send(sock, partner_room, "my zebracorn story")
    assert ack["ok"] is False and ack["code"] == "held" and "moderator" in ack["error"]
    assert ack["message"]["status"] == "held"
    assert received(listener, "chat") == []
    assert _join(listener, partner_room)["messages"] == []
    assert [m["id"] for m in _join(sock, partner_room)["messages"]] == [ack["id"]]  # the author sees it waiting
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReviewItem)
                                 .where(ReviewItem.item_type == "chat", ReviewItem.item_id == ack["id"])) == 1


def test_refused_text_is_not_stored(app: Flask, partner_client: FlaskClient, connect: Any, partner_room: int) -> None:
    _watch(app, "zebracorn", "refuse")
    ack = _send(connect(partner_client), partner_room, "zebracorn")
    assert ack["ok"] is False and ack["code"] == "refused"
    assert stored(app) == []


def test_judgment_nudge_then_send_anyway_publishes_and_flags(app: Flask, partner_client: FlaskClient,
                                                            connect: Any, partner_room: int) -> None:
    sock = connect(partner_client)
    text = "You should be ashamed of yourself for staying with him."
    nudge = _send(sock, partner_room, text)
    assert nudge["ok"] is False and nudge["code"] == "confirm" and nudge["confirm"] == "judgment"
    assert stored(app) == []
    anyway = _send(sock, partner_room, text, confirmed=True)
    assert anyway["ok"] is True
    with app.app_context():
        item = db.session.scalars(select(ReviewItem).where(ReviewItem.item_type == "chat")).one()
        assert item.item_id == anyway["id"]


# History and catch-up -----------------------------------------------------------------------

def _fill(app: Flask, account: Account, room: int, n: int) -> list[int]:
    from forum.accounts.models import Member
    from forum.rooms.models import Room

    app.config["RATELIMIT_ENABLED"] = False
    ids = []
    with app.test_request_context(method="POST"):
        member = db.session.get(Member, account.id)
        room_obj = db.session.get(Room, room)
        for i in range(n):
            ids.append(actions.do_send_message(db.session, member, room_obj, f"line {i}").message.id)
        db.session.commit()
    app.config["RATELIMIT_ENABLED"] = True
    return ids


def test_history_pages_back_without_gaps_or_duplicates(app: Flask, partner: Account, partner_client: FlaskClient,
                                                       connect: Any, partner_room: int) -> None:
    ids = _fill(app, partner, partner_room, 120)
    sock = connect(partner_client)
    first = _join(sock, partner_room)
    assert [m["id"] for m in first["messages"]] == ids[-50:] and first["has_more"] is True
    shown = [m["id"] for m in first["messages"]]
    while True:
        page = sock.emit("history", {"room_id": partner_room, "before_id": shown[0]}, callback=True)
        shown = [m["id"] for m in page["messages"]] + shown
        if not page["has_more"]:
            break
    assert shown == ids


def test_reconnect_catch_up_returns_everything_missed_in_order(app: Flask, partner: Account,
                                                               other_partner: Account,
                                                               other_partner_client: FlaskClient,
                                                               connect: Any, partner_room: int) -> None:
    before = _fill(app, partner, partner_room, 3)
    sock = connect(other_partner_client)
    first = _join(sock, partner_room)
    assert [m["id"] for m in first["messages"]] == before and first["seq"] == 3
    sock.disconnect()
    missed = _fill(app, partner, partner_room, 260)  # more than one catch-up page
    sock = connect(other_partner_client)
    ack = _join(sock, partner_room, after_seq=first["seq"])
    assert ack["catch_up"] is True and ack["seq"] == 263
    changes = list(ack["changes"])
    while ack["has_more"]:
        ack = sock.emit("since", {"room_id": partner_room, "after_seq": changes[-1]["seq"]}, callback=True)
        changes += ack["changes"]
    assert [c["id"] for c in changes] == missed
    assert [c["seq"] for c in changes] == list(range(4, 264))  # gap-free, in order
    assert {c["op"] for c in changes} == {"add"} and changes[0]["message"]["html"] == "line 0"


def test_catch_up_brings_removals_and_redactions_made_while_away(
        app: Flask, partner: Account, other_partner_client: FlaskClient, moderator: Account, connect: Any,
        partner_room: int, sent_events: list[SentEvent]) -> None:
    """A line removed or changed while a member was away comes back as that change, numbered in turn."""
    from forum.moderation.actions import do_redact, queue_for_review

    kept, removed, redacted = _fill(app, partner, partner_room, 3)
    sock = connect(other_partner_client)
    cursor = _join(sock, partner_room)["seq"]
    sock.disconnect()
    sent_events.clear()
    with app.test_request_context(method="POST"):
        actions.set_message_visibility(db.session, db.session.get_one(ChatMessage, removed), "removed")
        mod = db.session.get_one(Member, moderator.id)
        item = queue_for_review(db.session, item_type="chat", item_id=redacted, author_id=partner.id,
                                room_id=partner_room, labels=["identifying"], priority=1)
        do_redact(db.session, mod, item, text="my name is [removed]")
        db.session.commit()
    live = [e.payload for e in sent_events if e.name == "chat"]
    assert [(e["op"], e["id"], e["seq"]) for e in live] == [("remove", removed, cursor + 1),
                                                            ("update", redacted, cursor + 2)]
    sock = connect(other_partner_client)
    ack = _join(sock, partner_room, after_seq=cursor)
    assert [(c["op"], c["id"], c["seq"]) for c in ack["changes"]] == [("remove", removed, cursor + 1),
                                                                       ("add", redacted, cursor + 2)]
    assert "message" not in ack["changes"][0]  # nothing of a removed line's text
    assert ack["changes"][1]["message"]["html"] == "my name is [removed]"
    assert kept not in [c["id"] for c in ack["changes"]]
    # Asking again from the latest number: nothing more.
    again = sock.emit("since", {"room_id": partner_room, "after_seq": ack["seq"]}, callback=True)
    assert again["ok"] is True and again["changes"] == [] and again["has_more"] is False


def test_held_lines_take_no_change_number(app: Flask, partner: Account, partner_client: FlaskClient,
                                          other_partner_client: FlaskClient, connect: Any,
                                          partner_room: int) -> None:
    """A line waiting for review is no change anyone else can see: the numbers skip nothing for them."""
    _watch(app, "zebracorn", "hold")
    author, reader = connect(partner_client), connect(other_partner_client)
    start = _join(author, partner_room)["seq"]
    _join(reader, partner_room)
    held = _send(author, partner_room, "a zebracorn line", client_id="held-line-01")
    assert held["code"] == "held" and held["message"]["seq"] == 0
    shown = _send(author, partner_room, "an ordinary line", client_id="shown-line-1")
    assert shown["ok"] is True and shown["message"]["seq"] == start + 1
    live = [p["args"][0] for p in reader.get_received() if p["name"] == "chat"]
    assert [(e["op"], e["seq"]) for e in live] == [("add", start + 1)]
    since = reader.emit("since", {"room_id": partner_room, "after_seq": start}, callback=True)
    assert [c["id"] for c in since["changes"]] == [shown["id"]]


# Moderation and presence --------------------------------------------------------------------

def test_moderator_removal_disappears_from_every_open_chat(app: Flask, partner: Account,
                                                           partner_client: FlaskClient,
                                                           other_partner_client: FlaskClient,
                                                           moderator_client: FlaskClient, connect: Any,
                                                           partner_room: int, sent_events: list[SentEvent]) -> None:
    alice, bob, mod = connect(partner_client), connect(other_partner_client), connect(moderator_client)
    for s in (alice, bob, mod):
        _join(s, partner_room)
    sent = _send(alice, partner_room, "something to remove")
    for s in (alice, bob, mod):
        s.get_received()
    with app.app_context():
        message = db.session.get(ChatMessage, sent["id"])
        assert message is not None
        assert actions.set_message_visibility(db.session, message, "removed") == "published"
        db.session.commit()
    for s in (alice, bob, mod):
        assert received(s, "chat") == [{"type": "chat", "op": "remove", "room_id": partner_room, "id": sent["id"],
                                        "seq": sent["message"]["seq"] + 1}]
    assert _join(bob, partner_room)["messages"] == []
    with app.app_context():
        message = db.session.get(ChatMessage, sent["id"])
        actions.set_message_visibility(db.session, message, "published")
        db.session.commit()
    [restored] = received(bob, "chat")
    assert restored["op"] == "add" and restored["id"] == sent["id"]


def test_presence_counts_distinct_members_and_follows_joins_and_leaves(
        app: Flask, partner_client: FlaskClient, other_partner_client: FlaskClient, partner: Account,
        connect: Any, partner_room: int) -> None:
    alice = connect(partner_client)
    assert _join(alice, partner_room)["present"] == 1
    second_tab = connect(login(app.test_client(), partner))
    assert _join(second_tab, partner_room)["present"] == 1  # the same member twice counts once
    bob = connect(other_partner_client)
    assert _join(bob, partner_room)["present"] == 2
    counts = [e["count"] for e in received(alice, "presence")]
    assert counts[-1] == 2
    bob.disconnect()
    assert [e["count"] for e in received(alice, "presence")][-1] == 1
    assert alice.emit("leave", {"room_id": partner_room}, callback=True)["ok"] is True
    assert [e["count"] for e in received(second_tab, "presence")][-1] == 1


def test_stale_rows_of_a_dead_process_stop_counting_and_are_swept(app: Flask, partner: Account,
                                                                  other_partner: Account, partner_room: int) -> None:
    from forum.chat import presence

    app.config["CHAT_PRESENCE_HEARTBEAT"] = 30
    now = utcnow()
    with app.app_context():
        db.session.add_all([
            LiveSocket(sid="alive", member_id=partner.id, room_id=partner_room, connected_at=now),
            LiveSocket(sid="dead", member_id=other_partner.id, room_id=partner_room,
                       connected_at=now - timedelta(minutes=5)),
        ])
        db.session.commit()
        assert presence.present_count(db.session, partner_room, now) == 1
        later = now + timedelta(seconds=80)
        assert presence.refresh_sockets(db.session, ["alive"], later) == 1
        assert presence.sweep_stale(db.session, later) == 1
        db.session.commit()
        assert db.session.scalars(select(LiveSocket.sid)).all() == ["alive"]


# The member behind the socket is checked on every event -------------------------------------

def test_log_out_disconnects_the_open_socket(app: Flask, partner_client: FlaskClient, connect: Any,
                                             partner_room: int) -> None:
    sock = connect(partner_client)
    _join(sock, partner_room)
    partner_client.post("/logout")
    assert not sock.is_connected()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LiveSocket)) == 0


def test_password_change_disconnects_every_socket(app: Flask, partner: Account, partner_client: FlaskClient,
                                                  connect: Any, partner_room: int) -> None:
    other_device = login(app.test_client(), partner)
    first, second = connect(partner_client), connect(other_device)
    response = partner_client.post("/account/password", data={"current_password": partner.password,
                                                               "new_password": "a brand new long passphrase 7",
                                                               "confirm_password": "a brand new long passphrase 7"})
    assert response.status_code in (200, 302)
    assert not first.is_connected() and not second.is_connected()


def test_an_ended_session_is_refused_on_the_next_event(app: Flask, partner: Account, partner_client: FlaskClient,
                                                       connect: Any, partner_room: int) -> None:
    """Even if a disconnect never arrived (another process died), the next event finds no member."""
    from forum.accounts.models import WebSession

    sock = connect(partner_client)
    with app.app_context():
        db.session.query(WebSession).delete()
        db.session.commit()
    ack = _send(sock, partner_room, "still there?")
    assert ack["ok"] is False and ack["code"] == "unauthorized"
    assert not sock.is_connected()
    assert stored(app) == []


def test_a_remember_me_cookie_never_reopens_a_sockets_ended_session(database_url: str) -> None:
    """A page restores a session from "remember me"; a socket event only reads the one that opened it."""
    from forum.accounts.models import WebSession
    from forum.extensions import socketio
    from tests.chat.conftest import PARTNER_ROOM, room_id
    from tests.conftest import make_app

    app = make_app(database_url, REMEMBER_ME_ENABLED=True)
    account = register(app, "Brave Ember 52", "partner")
    client = app.test_client()
    client.post("/login", data={"pseudonym": account.pseudonym, "password": account.password, "remember": "yes"})
    sock = socketio.test_client(app, flask_test_client=client)
    assert _send(sock, room_id(app, PARTNER_ROOM), "hello")["ok"] is True
    with app.app_context():
        db.session.query(WebSession).delete()
        db.session.commit()
    assert _send(sock, room_id(app, PARTNER_ROOM), "still here?")["code"] == "unauthorized"
    assert not sock.is_connected()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebSession)) == 0  # no session was started
    assert client.get("/rooms").status_code == 200  # while a page still restores one from the cookie


def test_outside_a_page_or_socket_event_no_session_acts(app: Flask) -> None:
    from forum.sessions import ServerSessionInterface, acting_session

    assert acting_session() is None
    with app.app_context():
        assert acting_session() is None  # the CLI, a background task
    with app.test_request_context("/"):
        assert acting_session() is not None
    # A socket event whose session has ended acts as nobody verified, not as the CLI.
    interface = app.session_interface
    assert isinstance(interface, ServerSessionInterface)
    cookie = f"{app.config['SESSION_COOKIE_NAME']}=an-ended-session-id"
    with app.app_context():
        assert interface.socket_member(app, {"HTTP_COOKIE": cookie}) is None
        acting = acting_session()
        assert acting is not None and dict(acting) == {}


def test_a_banned_member_is_refused_and_disconnected(app: Flask, partner: Account, partner_client: FlaskClient,
                                                     connect: Any, partner_room: int) -> None:
    sock = connect(partner_client)
    update_member(app, partner.id, banned_at=utcnow())
    assert _join(sock, partner_room)["code"] == "unauthorized"
    assert not sock.is_connected()
    assert not connect(partner_client).is_connected()


def test_register_thread_watch_only_for_the_audience(app: Flask, partner: Account, partner_client: FlaskClient,
                                                     recovery_client: FlaskClient, connect: Any) -> None:
    from tests.rooms.conftest import PARTNER_ROOM, start_thread

    made = start_thread(app, partner, PARTNER_ROOM, "A thread", "An opening post.")
    ok = connect(partner_client).emit("watch_thread", {"thread_id": made.thread_id}, callback=True)
    assert ok == {"ok": True, "thread_id": made.thread_id}
    refused = connect(recovery_client).emit("watch_thread", {"thread_id": made.thread_id}, callback=True)
    missing = connect(recovery_client).emit("watch_thread", {"thread_id": 99999}, callback=True)
    assert refused == missing and refused["code"] == "not_found"


def test_a_new_registration_can_chat(app: Flask, connect: Any, partner_room: int) -> None:
    account = register(app, "Brand New 77", "partner")
    sock = connect(login(app.test_client(), account))
    assert _send(sock, partner_room, "first words")["ok"] is True


def test_room_access_is_checked_on_every_event_against_the_member_as_they_are_now(
        app: Flask, partner: Account, partner_client: FlaskClient, connect: Any, partner_room: int) -> None:
    """The process remembers rooms it has read, never who may enter them."""
    sock = connect(partner_client)
    assert _join(sock, partner_room)["ok"] is True
    assert _send(sock, partner_room, "before the change")["ok"] is True
    update_member(app, partner.id, path="recovery")
    refused = _send(sock, partner_room, "after the change")
    assert refused["ok"] is False and refused["code"] == "not_found"
    assert sock.emit("since", {"room_id": partner_room, "after_seq": 0}, callback=True)["code"] == "not_found"

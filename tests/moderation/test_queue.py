"""Every queue action: what members then see, what they are told, what open sockets receive."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from forum.db import as_utc, utcnow
from tests.conftest import Account
from tests.moderation.conftest import (
    chat_status,
    client_for,
    flag,
    item_for,
    log_entries,
    make_new,
    member_row,
    notices_of,
    open_items,
    post_status,
    received,
    room_id,
    send_chat,
)
from tests.rooms.conftest import PARTNER_ROOM, Made, add_reply, start_thread


def _held_post(app: Flask, account: Account, body: str = "My first post here, finally.") -> Made:
    make_new(app, account)
    return start_thread(app, account, PARTNER_ROOM, "Hello from someone new", body)


def test_a_new_members_post_is_held_and_approval_publishes_it(
        app: Flask, partner: Account, other_partner_client: FlaskClient, moderator_client: FlaskClient,
        moderator: Account, sent_events: list) -> None:
    made = _held_post(app, partner)
    assert post_status(app, made.post_id) == "held"
    assert other_partner_client.get(f"/threads/{made.thread_id}").status_code == 404
    (held_notice,) = notices_of(app, partner.id)
    assert held_notice.kind == "held" and "not a judgment of you" in held_notice.body
    item = item_for(app, made.post_id)
    assert "new-member" in item.labels
    sent_events.clear()

    response = moderator_client.post(f"/moderation/items/{item.id}/approve")
    assert response.status_code == 302 and response.headers["Location"] == "/moderation"
    assert post_status(app, made.post_id) == "published"
    page = other_partner_client.get(f"/threads/{made.thread_id}").get_data(as_text=True)
    assert made.body in page
    assert [n.kind for n in notices_of(app, partner.id)] == ["held", "restored"]
    assert member_row(app, partner.id).published_posts == 1
    events = [(e.name, e.payload, e.to) for e in sent_events]
    assert ("post", {"type": "post", "op": "add", "thread_id": made.thread_id, "id": made.post_id},
            f"thread:{made.thread_id}") in events
    assert ("queue", {"type": "queue", "op": "remove", "id": item.id}, "moderators") in events
    assert open_items(app) == []
    (entry,) = log_entries(app, "approve")
    assert entry.moderator_id == moderator.id and entry.before["status"] == "held"
    assert entry.item_id == made.post_id and entry.member_id == partner.id


def test_remove_takes_the_post_down_everywhere_and_tells_the_author_why(
        app: Flask, partner: Account, partner_thread: Made, other_partner_client: FlaskClient,
        moderator_client: FlaskClient, connect, sent_events: list) -> None:
    reply_id = add_reply(app, partner, partner_thread.post_id, "Call me on the number in my profile.")
    flag(other_partner_client, reply_id, "identity")
    watcher = connect(other_partner_client)
    assert watcher.emit("watch_thread", {"thread_id": partner_thread.thread_id}, callback=True)["ok"] is True
    watcher.get_received()
    item = item_for(app, reply_id)

    response = moderator_client.post(f"/moderation/items/{item.id}/remove",
                                     data={"reason": "identity", "note": "Please keep contact details private."})
    assert response.status_code == 302
    assert post_status(app, reply_id) == "removed"
    assert received(watcher, "post") == [
        {"type": "post", "op": "remove", "thread_id": partner_thread.thread_id, "id": reply_id}]
    page = other_partner_client.get(f"/threads/{partner_thread.thread_id}").get_data(as_text=True)
    assert "number in my profile" not in page and "removed by a moderator" in page
    (notice,) = [n for n in notices_of(app, partner.id) if n.kind == "removed"]
    assert "could identify you or someone else" in notice.body
    assert "Please keep contact details private." in notice.body
    assert notice.link == f"/posts/{reply_id}"
    (entry,) = log_entries(app, "remove")
    assert entry.before["status"] == "published" and entry.before["labels"] == ["flag:identity"]
    assert entry.reason is not None and entry.reason.startswith("identity:")


def test_remove_with_something_else_needs_a_note(app: Flask, partner_thread: Made,
                                                 other_partner_client: FlaskClient,
                                                 moderator_client: FlaskClient) -> None:
    flag(other_partner_client, partner_thread.post_id, "spam")
    item = item_for(app, partner_thread.post_id)
    response = moderator_client.post(f"/moderation/items/{item.id}/remove", data={"reason": "other"})
    assert response.status_code == 302
    assert "Please write a short note" in moderator_client.get("/moderation").get_data(as_text=True)
    assert post_status(app, partner_thread.post_id) == "published"
    assert log_entries(app, "remove") == []


def test_redact_rewrites_publishes_and_logs_the_text_before(
        app: Flask, partner: Account, partner_thread: Made, other_partner_client: FlaskClient,
        moderator_client: FlaskClient) -> None:
    original = "You can reach me at jane.doe@example.com any time."
    reply_id = add_reply(app, partner, partner_thread.post_id, "placeholder")
    # Posted anyway after the identifying-information nudge: held for review.
    with app.app_context():
        from forum.accounts.models import Member
        from forum.db import db
        from forum.rooms import actions
        from forum.rooms.models import Post

        member = db.session.get(Member, partner.id)
        parent = db.session.get(Post, partner_thread.post_id)
        assert member is not None and parent is not None
        post, verdict = actions.do_reply(db.session, member, parent, body=original, confirmed=True)
        db.session.commit()
        held_id = post.id
    assert verdict is not None and verdict.decision == "hold"
    assert reply_id != held_id
    item = item_for(app, held_id)
    assert "pii:email" in item.labels

    response = moderator_client.post(f"/moderation/items/{item.id}/redact",
                                     data={"text": "You can reach me here any time.", "note": "took out an email"})
    assert response.status_code == 302
    assert post_status(app, held_id) == "published"
    page = other_partner_client.get(f"/threads/{partner_thread.thread_id}").get_data(as_text=True)
    assert "You can reach me here any time." in page and "jane.doe" not in page
    (entry,) = log_entries(app, "redact")
    assert entry.before["text"] == original and entry.before["status"] == "held"
    assert entry.reason == "took out an email"
    assert [n.kind for n in notices_of(app, partner.id)][-1] == "redacted"


def test_warn_sends_a_private_notice(app: Flask, partner: Account, partner_thread: Made,
                                     other_partner_client: FlaskClient, moderator_client: FlaskClient,
                                     moderator: Account) -> None:
    flag(other_partner_client, partner_thread.post_id, "judgment")
    item = item_for(app, partner_thread.post_id)
    response = moderator_client.post(f"/moderation/members/{partner.id}/warn",
                                     data={"note": "Please speak from your own experience.", "item_id": str(item.id)})
    assert response.status_code == 302
    (notice,) = notices_of(app, partner.id)
    assert notice.kind == "warning" and "Please speak from your own experience." in notice.body
    (entry,) = log_entries(app, "warn")
    assert (entry.moderator_id, entry.member_id, entry.item_id) == (moderator.id, partner.id, partner_thread.post_id)
    # A warning does not settle the item.
    assert [i.id for i in open_items(app)] == [item.id]


def test_mute_stops_posting_and_chatting_until_it_ends(app: Flask, partner: Account, partner_thread: Made,
                                                       partner_client: FlaskClient, moderator_client: FlaskClient,
                                                       connect) -> None:
    response = moderator_client.post(f"/moderation/members/{partner.id}/mute", data={"hours": "24", "note": "A pause."})
    assert response.status_code == 302
    muted_until = as_utc(member_row(app, partner.id).muted_until)
    assert muted_until is not None and muted_until > utcnow()
    refused = partner_client.post(f"/posts/{partner_thread.post_id}/replies", data={"body": "Still here"})
    assert refused.status_code == 403
    assert "muted" in refused.get_data(as_text=True)
    sock = connect(partner_client)
    ack = sock.emit("send", {"room_id": room_id(app), "body": "hello?", "client_id": "abcdefgh1"}, callback=True)
    assert ack["ok"] is False and ack["code"] == "muted"
    (notice,) = notices_of(app, partner.id)
    assert notice.kind == "muted" and "A pause." in notice.body
    (entry,) = log_entries(app, "mute")
    assert entry.before == {"muted_until": None} and entry.reason == "1 day: A pause."
    # Unmuting lets them back in.
    moderator_client.post(f"/moderation/members/{partner.id}/unmute")
    ok = partner_client.post(f"/posts/{partner_thread.post_id}/replies", data={"body": "Back again"})
    assert ok.status_code == 302
    assert log_entries(app, "unmute")[0].before["muted_until"] is not None


def test_mute_needs_a_known_period(app: Flask, partner: Account, moderator_client: FlaskClient) -> None:
    moderator_client.post(f"/moderation/members/{partner.id}/mute", data={"hours": "99999"})
    assert member_row(app, partner.id).muted_until is None
    assert log_entries(app, "mute") == []


def test_ban_ends_sessions_and_closes_open_sockets(app: Flask, partner: Account, partner_client: FlaskClient,
                                                   moderator_client: FlaskClient, connect) -> None:
    sock = connect(partner_client)
    assert sock.is_connected()
    response = moderator_client.post(f"/moderation/members/{partner.id}/ban", data={"note": "Repeated threats"})
    assert response.status_code == 302
    assert not sock.is_connected()
    after = partner_client.get("/rooms")
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    relogin = partner_client.post("/login", data={"pseudonym": partner.pseudonym, "password": partner.password})
    assert relogin.status_code != 302
    row = member_row(app, partner.id)
    assert row.banned_at is not None and row.ban_reason == "Repeated threats"
    (entry,) = log_entries(app, "ban")
    assert entry.before["banned_at"] is None and entry.reason == "Repeated threats"


def test_moderators_cannot_be_banned_or_muted_by_moderators(app: Flask, second_moderator: Account,
                                                            moderator_client: FlaskClient) -> None:
    moderator_client.post(f"/moderation/members/{second_moderator.id}/ban", data={"note": "no"})
    moderator_client.post(f"/moderation/members/{second_moderator.id}/mute", data={"hours": "1"})
    row = member_row(app, second_moderator.id)
    assert row.banned_at is None and row.muted_until is None
    assert log_entries(app, "ban") == [] and log_entries(app, "mute") == []


def test_claim_keeps_two_moderators_apart(app: Flask, partner: Account, moderator: Account,
                                          second_moderator: Account, moderator_client: FlaskClient,
                                          second_moderator_client: FlaskClient) -> None:
    made = _held_post(app, partner)
    item = item_for(app, made.post_id)
    assert moderator_client.post(f"/moderation/items/{item.id}/claim").status_code == 302
    assert item_for(app, made.post_id).claimed_by_id == moderator.id

    # The other moderator sees who is working on it, and their actions are refused.
    page = second_moderator_client.get("/moderation").get_data(as_text=True)
    assert f"{moderator.pseudonym} is working on this" in page
    assert f"/moderation/items/{item.id}/approve" not in page
    second_moderator_client.post(f"/moderation/items/{item.id}/approve")
    second_moderator_client.post(f"/moderation/items/{item.id}/remove", data={"reason": "spam"})
    second_moderator_client.post(f"/moderation/members/{partner.id}/warn",
                                 data={"note": "hi", "item_id": str(item.id)})
    assert post_status(app, made.post_id) == "held"
    assert "Another moderator is working on this item" in second_moderator_client.get("/moderation").get_data(
        as_text=True)
    assert log_entries(app, "approve") == [] and log_entries(app, "warn") == []

    # Taking it over is explicit, logged, and then the action works.
    second_moderator_client.post(f"/moderation/items/{item.id}/claim", data={"take_over": "yes"})
    assert item_for(app, made.post_id).claimed_by_id == second_moderator.id
    (takeover,) = log_entries(app, "take_over")
    assert takeover.before == {"claimed_by_id": moderator.id} and takeover.moderator_id == second_moderator.id
    second_moderator_client.post(f"/moderation/items/{item.id}/approve")
    assert post_status(app, made.post_id) == "published"
    # The first moderator's late action finds the item handled.
    moderator_client.post(f"/moderation/items/{item.id}/remove", data={"reason": "spam"})
    assert post_status(app, made.post_id) == "published"
    assert "already been handled" in moderator_client.get("/moderation").get_data(as_text=True)


def test_take_over_in_the_same_request_as_the_action(app: Flask, partner: Account, moderator_client: FlaskClient,
                                                     second_moderator_client: FlaskClient,
                                                     second_moderator: Account) -> None:
    made = _held_post(app, partner)
    item = item_for(app, made.post_id)
    moderator_client.post(f"/moderation/items/{item.id}/claim")
    second_moderator_client.post(f"/moderation/items/{item.id}/approve", data={"take_over": "yes"})
    assert post_status(app, made.post_id) == "published"
    assert log_entries(app, "take_over")[0].moderator_id == second_moderator.id


def test_release_gives_the_item_back(app: Flask, partner: Account, moderator_client: FlaskClient,
                                     second_moderator_client: FlaskClient) -> None:
    made = _held_post(app, partner)
    item = item_for(app, made.post_id)
    moderator_client.post(f"/moderation/items/{item.id}/claim")
    second_moderator_client.post(f"/moderation/items/{item.id}/release")  # not theirs: refused
    assert item_for(app, made.post_id).claimed_by_id is not None
    moderator_client.post(f"/moderation/items/{item.id}/release")
    assert item_for(app, made.post_id).claimed_by_id is None
    assert [e.action for e in log_entries(app)] == ["claim", "release"]


def test_removing_a_chat_message_disappears_from_open_chats(app: Flask, partner: Account, other_partner: Account,
                                                            other_partner_client: FlaskClient,
                                                            moderator_client: FlaskClient, connect) -> None:
    message_id = send_chat(app, partner, "Buy my course at a discount!")
    listener = connect(other_partner_client)
    joined = listener.emit("join", {"room_id": room_id(app)}, callback=True)
    assert joined["ok"] is True
    flag(other_partner_client, message_id, "spam", item_type="chat")
    listener.get_received()
    item = item_for(app, message_id, "chat")
    moderator_client.post(f"/moderation/items/{item.id}/remove", data={"reason": "spam"})
    assert chat_status(app, message_id) == "removed"
    assert received(listener, "chat") == [{"type": "chat", "op": "remove", "room_id": room_id(app), "id": message_id,
                                           "seq": joined["seq"] + 1}]
    reloaded = connect(other_partner_client).emit("join", {"room_id": room_id(app)}, callback=True)
    assert reloaded["ok"] is True and all(m["id"] != message_id for m in reloaded["messages"])
    assert [n.kind for n in notices_of(app, partner.id)] == ["removed"]
    page = moderator_client.get("/moderation/log").get_data(as_text=True)
    assert "Removed" in page


def test_the_queue_updates_live_for_moderators_only(app: Flask, partner_thread: Made, moderator_client: FlaskClient,
                                                    other_partner_client: FlaskClient, partner_client: FlaskClient,
                                                    connect) -> None:
    moderator_socket = connect(moderator_client)
    member_socket = connect(partner_client)
    moderator_socket.get_received()
    member_socket.get_received()
    flag(other_partner_client, partner_thread.post_id, "judgment")
    item = item_for(app, partner_thread.post_id)
    assert {"type": "queue", "op": "update", "id": item.id} in received(moderator_socket, "queue")
    assert received(member_socket, "queue") == []
    moderator_client.post(f"/moderation/items/{item.id}/approve")
    assert {"type": "queue", "op": "remove", "id": item.id} in received(moderator_socket, "queue")
    assert received(member_socket, "queue") == []


def test_the_queue_shows_context_and_the_authors_history(app: Flask, partner: Account, partner_thread: Made,
                                                         other_partner_client: FlaskClient,
                                                         moderator_client: FlaskClient) -> None:
    first = add_reply(app, partner, partner_thread.post_id, "An earlier reply.")
    flag(other_partner_client, first, "spam")
    moderator_client.post(f"/moderation/items/{item_for(app, first).id}/remove", data={"reason": "spam"})
    second = add_reply(app, partner, partner_thread.post_id, "A newer reply that got flagged.")
    flag(other_partner_client, second, "graphic")
    page = moderator_client.get("/moderation").get_data(as_text=True)
    assert partner_thread.title in page  # the thread
    assert partner_thread.body in page  # the post it answers
    assert "A newer reply that got flagged." in page
    assert "Flagged: Graphic or triggering without a warning (1)" in page
    assert "Removed: 1" in page  # the author's history
    fragment = moderator_client.get("/moderation?fragment=1")
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "A newer reply that got flagged." in fragment.get_data(as_text=True)


def test_unknown_items_and_members_are_not_found(moderator_client: FlaskClient) -> None:
    assert moderator_client.post("/moderation/items/999999/approve").status_code == 404
    assert moderator_client.post("/moderation/members/999999/warn", data={"note": "x"}).status_code == 404


def test_approving_a_hidden_chat_message_brings_it_back_live(app: Flask, partner: Account, partners: list[Account],
                                                             other_partner_client: FlaskClient,
                                                             moderator_client: FlaskClient, connect) -> None:
    app.config["FLAGS_TO_HIDE"] = 1
    message_id = send_chat(app, partner, "Is it normal to feel numb after D-day?")
    flag(client_for(app, partners[0]), message_id, "graphic", item_type="chat")
    assert chat_status(app, message_id) == "hidden"
    listener = connect(other_partner_client)
    assert listener.emit("join", {"room_id": room_id(app)}, callback=True)["ok"] is True
    listener.get_received()
    moderator_client.post(f"/moderation/items/{item_for(app, message_id, 'chat').id}/approve")
    assert chat_status(app, message_id) == "published"
    (added,) = received(listener, "chat")
    assert added["op"] == "add" and added["id"] == message_id
    assert added["message"]["html"] == "Is it normal to feel numb after D-day?"
    assert [n.kind for n in notices_of(app, partner.id)] == ["hidden", "restored"]


def test_the_queue_puts_risk_first_then_priority_then_the_oldest(
        app: Flask, partner: Account, partner_thread: Made, other_partner_client: FlaskClient,
        moderator_client: FlaskClient) -> None:
    oldest = add_reply(app, partner, partner_thread.post_id, "Reply one.")
    older = add_reply(app, partner, partner_thread.post_id, "Reply two.")
    identifying = add_reply(app, partner, partner_thread.post_id, "Reply three.")
    at_risk = add_reply(app, partner, partner_thread.post_id, "Reply four.")
    flag(other_partner_client, oldest, "spam")
    flag(other_partner_client, older, "spam")
    flag(other_partner_client, identifying, "identity")
    flag(other_partner_client, at_risk, "risk")
    page = moderator_client.get("/moderation").get_data(as_text=True)
    positions = [page.index(f'id="item-{item_for(app, post_id).id}"')
                 for post_id in (at_risk, identifying, oldest, older)]
    assert positions == sorted(positions)
    assert page.count("badge-risk") == 1


def test_a_queued_post_names_its_room_and_a_chat_line_shows_the_lines_before_it(
        app: Flask, partner: Account, other_partner: Account, partner_thread: Made,
        other_partner_client: FlaskClient, moderator_client: FlaskClient) -> None:
    flag(other_partner_client, partner_thread.post_id, "spam")
    send_chat(app, other_partner, "Is anyone around tonight?")
    send_chat(app, other_partner, "I had a rough day at work.")
    line = send_chat(app, partner, "Buy my miracle course now.")
    flag(other_partner_client, line, "spam", item_type="chat")
    page = moderator_client.get("/moderation").get_data(as_text=True)
    assert "Post in Just found out" in page and "Chat message in Just found out" in page
    chat_card = page[page.index(f'id="item-{item_for(app, line, "chat").id}"'):]
    assert "Just before it in the chat:" in chat_card
    assert chat_card.index("Is anyone around tonight?") < chat_card.index("I had a rough day at work.") \
        < chat_card.index("Buy my miracle course now.")


def test_redacting_a_published_post_updates_open_thread_pages(
        app: Flask, partner: Account, partner_thread: Made, other_partner_client: FlaskClient,
        moderator_client: FlaskClient, sent_events: list) -> None:
    reply_id = add_reply(app, partner, partner_thread.post_id, "I'm Jo, from the Tuesday group in Leeds.")
    flag(other_partner_client, reply_id, "identity")
    sent_events.clear()
    moderator_client.post(f"/moderation/items/{item_for(app, reply_id).id}/redact",
                          data={"text": "I'm from a Tuesday group."})
    assert ("post", {"type": "post", "op": "update", "thread_id": partner_thread.thread_id, "id": reply_id},
            f"thread:{partner_thread.thread_id}") in [(e.name, e.payload, e.to) for e in sent_events]
    page = other_partner_client.get(f"/threads/{partner_thread.thread_id}").get_data(as_text=True)
    assert "I&#39;m from a Tuesday group." in page or "I'm from a Tuesday group." in page
    assert "Leeds" not in page


def test_redacting_a_chat_line_updates_open_chats(app: Flask, partner: Account, other_partner_client: FlaskClient,
                                                  moderator_client: FlaskClient, connect) -> None:
    line = send_chat(app, partner, "It's Jo from the Tuesday group at St Bede's.")  # screening let it through
    listener = connect(other_partner_client)
    assert listener.emit("join", {"room_id": room_id(app)}, callback=True)["ok"] is True
    flag(other_partner_client, line, "identity", item_type="chat")
    listener.get_received()
    moderator_client.post(f"/moderation/items/{item_for(app, line, 'chat').id}/redact",
                          data={"text": "It's me, from a Tuesday group."})
    (update,) = received(listener, "chat")
    assert update["op"] == "update" and update["id"] == line
    assert "Bede" not in update["message"]["html"] and "from a Tuesday group." in update["message"]["html"]
    reloaded = connect(other_partner_client).emit("join", {"room_id": room_id(app)}, callback=True)
    assert [m["id"] for m in reloaded["messages"]] == [line]
    assert "Bede" not in reloaded["messages"][0]["html"]


def test_a_mute_reaches_a_chat_that_is_already_open(app: Flask, partner: Account, partner_client: FlaskClient,
                                                    moderator_client: FlaskClient, connect) -> None:
    sock = connect(partner_client)
    assert sock.emit("join", {"room_id": room_id(app)}, callback=True)["ok"] is True
    first = sock.emit("send", {"room_id": room_id(app), "body": "hello", "client_id": "before-mute"}, callback=True)
    assert first["ok"] is True
    moderator_client.post(f"/moderation/members/{partner.id}/mute", data={"hours": "1"})
    after = sock.emit("send", {"room_id": room_id(app), "body": "still here", "client_id": "after-mute"},
                      callback=True)
    assert after["ok"] is False and after["code"] == "muted"

"""Member flags: who may flag what, one flag per member, the hiding threshold, risk first."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from forum.db import db
from forum.moderation import queries
from tests.conftest import Account
from tests.moderation.conftest import (
    chat_status,
    client_for,
    flag,
    flags_on,
    item_for,
    log_entries,
    notices_of,
    open_items,
    post_status,
    received,
    room_id,
    send_chat,
)
from tests.rooms.conftest import RECOVERY_ROOM, Made, add_reply, start_thread


def test_a_member_flags_a_post_and_is_thanked(app: Flask, partner_thread: Made, other_partner_client: FlaskClient,
                                              sent_events: list) -> None:
    response = flag(other_partner_client, partner_thread.post_id, "judgment",
                    next=f"/threads/{partner_thread.thread_id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/threads/{partner_thread.thread_id}"
    page = other_partner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thank you for letting us know" in page
    # Still visible: one flag only asks a moderator to look.
    assert partner_thread.body in page
    (item,) = open_items(app)
    assert (item.item_type, item.item_id, item.flag_count) == ("post", partner_thread.post_id, 1)
    assert "flag:judgment" in item.labels
    assert [(e.name, e.payload, e.to) for e in sent_events] == [
        ("queue", {"type": "queue", "op": "update", "id": item.id}, "moderators"),
        ("queue", {"type": "queue", "op": "update", "id": item.id}, "moderators")]


def test_flag_answers_json_when_asked(partner_thread: Made, other_partner_client: FlaskClient) -> None:
    response = flag(other_partner_client, partner_thread.post_id, "spam", json=True)
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "created": True, "hidden": False,
                                   "message": response.get_json()["message"]}
    again = flag(other_partner_client, partner_thread.post_id, "spam", json=True)
    assert again.status_code == 200
    assert again.get_json()["created"] is False
    assert "already flagged" in again.get_json()["message"]


def test_one_flag_per_member_per_item(app: Flask, partner_thread: Made, other_partner_client: FlaskClient) -> None:
    flag(other_partner_client, partner_thread.post_id, "judgment")
    second = flag(other_partner_client, partner_thread.post_id, "spam", next="/rooms")
    assert second.status_code == 302
    assert "already flagged" in other_partner_client.get("/rooms").get_data(as_text=True)
    assert [f.reason for f in flags_on(app, partner_thread.post_id)] == ["judgment"]
    assert item_for(app, partner_thread.post_id).flag_count == 1


def test_nobody_flags_their_own_text(app: Flask, partner_thread: Made, partner_client: FlaskClient) -> None:
    response = flag(partner_client, partner_thread.post_id, "spam", json=True)
    assert response.status_code == 400
    assert "your own" in response.get_json()["error"]
    page_response = flag(partner_client, partner_thread.post_id, "spam")
    assert page_response.status_code == 302
    assert "your own" in partner_client.get(page_response.headers["Location"]).get_data(as_text=True)
    assert flags_on(app, partner_thread.post_id) == []
    assert open_items(app) == []


def test_a_post_of_another_path_cannot_be_flagged(app: Flask, partner_thread: Made,
                                                   recovery_client: FlaskClient) -> None:
    missing = flag(recovery_client, 999_999, "spam", json=True)
    hidden_from_me = flag(recovery_client, partner_thread.post_id, "spam", json=True)
    assert hidden_from_me.status_code == missing.status_code == 404
    assert hidden_from_me.get_json() == missing.get_json()
    assert flags_on(app, partner_thread.post_id) == []


def test_visitors_cannot_flag(client: FlaskClient, partner_thread: Made, app: Flask) -> None:
    response = flag(client, partner_thread.post_id, "spam")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert flags_on(app, partner_thread.post_id) == []


def test_something_else_needs_an_explanation(app: Flask, partner_thread: Made,
                                             other_partner_client: FlaskClient) -> None:
    response = flag(other_partner_client, partner_thread.post_id, "other")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "A short explanation can&#39;t be empty" in page
    assert flags_on(app, partner_thread.post_id) == []
    ok = flag(other_partner_client, partner_thread.post_id, "other", note="This reads like a sales pitch")
    assert ok.status_code == 302
    assert [f.note for f in flags_on(app, partner_thread.post_id)] == ["This reads like a sales pitch"]


def test_an_unknown_reason_is_refused(app: Flask, partner_thread: Made, other_partner_client: FlaskClient) -> None:
    response = flag(other_partner_client, partner_thread.post_id, "i-dislike-them", json=True)
    assert response.status_code == 400
    assert response.get_json()["fields"] == {"reason": "Please choose a reason."}


def test_the_flag_form_works_without_javascript(app: Flask, partner_thread: Made,
                                                other_partner_client: FlaskClient) -> None:
    thread_page = other_partner_client.get(f"/threads/{partner_thread.thread_id}").get_data(as_text=True)
    assert f"/flags/new?item_type=post&amp;item_id={partner_thread.post_id}" in thread_page
    form = other_partner_client.get(f"/flags/new?item_type=post&item_id={partner_thread.post_id}")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    for label in ("Judgmental or shaming", "Reveals someone's identity", "Someone may be at risk",
                  "Graphic or triggering without a warning", "Spam or advertising", "Something else"):
        assert label.replace("'", "&#39;") in html
    assert '<label for="note">' in html


def test_no_flag_link_on_your_own_post(partner_thread: Made, partner_client: FlaskClient) -> None:
    page = partner_client.get(f"/threads/{partner_thread.thread_id}").get_data(as_text=True)
    assert "/flags/new" not in page


def test_enough_flags_hide_the_post_until_review(app: Flask, partner: Account, partner_thread: Made,
                                                 partners: list[Account], other_partner_client: FlaskClient,
                                                 sent_events: list) -> None:
    reply_id = add_reply(app, partner, partner_thread.post_id, "My take on the situation is different from yours.")
    sent_events.clear()
    assert app.config["FLAGS_TO_HIDE"] == 3
    for account in partners[:2]:
        flag(client_for(app, account), reply_id, "judgment")
    assert post_status(app, reply_id) == "published"
    flag(client_for(app, partners[2]), reply_id, "judgment")
    assert post_status(app, reply_id) == "hidden"
    # The other members no longer read it, live or on reload.
    assert ("post", {"type": "post", "op": "remove", "thread_id": partner_thread.thread_id, "id": reply_id},
            f"thread:{partner_thread.thread_id}") in [(e.name, e.payload, e.to) for e in sent_events]
    page = other_partner_client.get(f"/threads/{partner_thread.thread_id}").get_data(as_text=True)
    assert "My take on the situation" not in page
    assert "hidden while a moderator reviews it" in page
    item = item_for(app, reply_id)
    assert item.flag_count == 3 and "auto-hidden" in item.labels
    (entry,) = log_entries(app, "auto_hide")
    assert entry.moderator_id is None and entry.before["status"] == "published"
    # The author is told, without blame and without who flagged.
    (notice,) = notices_of(app, partner.id)
    assert notice.kind == "hidden" and "not a judgment of you" in notice.body
    for account in partners:
        assert account.pseudonym not in notice.body


def test_the_threshold_comes_from_configuration(app: Flask, partner_thread: Made,
                                                other_partner_client: FlaskClient) -> None:
    app.config["FLAGS_TO_HIDE"] = 1
    flag(other_partner_client, partner_thread.post_id, "spam")
    assert post_status(app, partner_thread.post_id) == "hidden"


def test_a_risk_flag_goes_to_the_top_of_the_queue(app: Flask, partner: Account, partner_thread: Made,
                                                  partners: list[Account], moderator_client: FlaskClient) -> None:
    older = add_reply(app, partner, partner_thread.post_id, "An older reply someone found harsh.")
    newer = add_reply(app, partner, partner_thread.post_id, "I don't see the point of anything any more.")
    flag(client_for(app, partners[0]), older, "judgment")
    flag(client_for(app, partners[1]), older, "identity")
    flag(client_for(app, partners[0]), newer, "risk")
    with app.app_context():
        ordered = [item.item_id for item in queries.open_items(db.session)]
    assert ordered[0] == newer
    page = moderator_client.get("/moderation").get_data(as_text=True)
    assert page.index(f"/moderation/items/{item_for(app, newer).id}/") < page.index(
        f"/moderation/items/{item_for(app, older).id}/")
    assert "Someone may be at risk" in page


def test_moderators_see_reasons_counts_and_flaggers_the_author_does_not(
        app: Flask, partner: Account, partner_client: FlaskClient, partner_thread: Made, partners: list[Account],
        moderator_client: FlaskClient) -> None:
    flag(client_for(app, partners[0]), partner_thread.post_id, "judgment")
    flag(client_for(app, partners[1]), partner_thread.post_id, "judgment")
    flag(client_for(app, partners[2]), partner_thread.post_id, "other", note="Feels like a pile-on")
    queue_page = moderator_client.get("/moderation").get_data(as_text=True)
    assert "Flagged: Judgmental or shaming (2)" in queue_page
    assert "Flagged: Something else (1)" in queue_page
    assert "Feels like a pile-on" in queue_page
    assert partners[0].pseudonym in queue_page  # in the moderators-only "who flagged" list
    author_pages = [partner_client.get(path).get_data(as_text=True)
                    for path in (f"/threads/{partner_thread.thread_id}", "/notices", "/rooms")]
    for account in partners:
        assert all(account.pseudonym not in page for page in author_pages)


def test_a_chat_message_can_be_flagged_and_hidden_live(app: Flask, partner: Account, partners: list[Account],
                                                       partner_client: FlaskClient, connect, sent_events: list) -> None:
    message_id = send_chat(app, partner, "Anyone else awake?")
    listener = connect(client_for(app, partners[0]))
    joined = listener.emit("join", {"room_id": room_id(app)}, callback=True)
    assert joined["ok"] is True
    listener.get_received()
    app.config["FLAGS_TO_HIDE"] = 2
    first = flag(client_for(app, partners[1]), message_id, "spam", item_type="chat", json=True)
    assert first.get_json()["created"] is True and first.get_json()["hidden"] is False
    second = flag(client_for(app, partners[2]), message_id, "spam", item_type="chat", json=True)
    assert second.get_json()["hidden"] is True
    assert chat_status(app, message_id) == "hidden"
    assert received(listener, "chat") == [{"type": "chat", "op": "remove", "room_id": room_id(app), "id": message_id,
                                           "seq": joined["seq"] + 1}]
    item = item_for(app, message_id, "chat")
    assert item.room_id == room_id(app) and item.author_id == partner.id


def test_a_chat_message_of_another_room_audience_cannot_be_flagged(app: Flask, recovering: Account,
                                                                    partner_client: FlaskClient) -> None:
    message_id = send_chat(app, recovering, "Day three, still going.", slug=RECOVERY_ROOM)
    response = flag(partner_client, message_id, "spam", item_type="chat", json=True)
    assert response.status_code == 404
    assert flags_on(app, message_id, "chat") == []


def test_an_approved_item_needs_fresh_flags_to_hide_again(app: Flask, partner_thread: Made, partners: list[Account],
                                                          other_partner: Account, moderator_client: FlaskClient) -> None:
    for account in partners:
        flag(client_for(app, account), partner_thread.post_id, "judgment")
    assert post_status(app, partner_thread.post_id) == "hidden"
    item = item_for(app, partner_thread.post_id)
    moderator_client.post(f"/moderation/items/{item.id}/approve")
    assert post_status(app, partner_thread.post_id) == "published"
    # Earlier flags were dismissed: one new flag opens a new item with one flag, and hides nothing.
    flag(client_for(app, other_partner), partner_thread.post_id, "judgment")
    fresh = item_for(app, partner_thread.post_id)
    assert fresh.id != item.id and fresh.flag_count == 1
    assert post_status(app, partner_thread.post_id) == "published"
    queue_page = moderator_client.get("/moderation").get_data(as_text=True)
    assert "Flagged: Judgmental or shaming (1)" in queue_page


def test_flagging_another_thread_in_the_same_path(app: Flask, recovering: Account, partner_client: FlaskClient) -> None:
    """The recovery path's posts are invisible to partners, so they can't be flagged (404, not 403)."""
    made = start_thread(app, recovering, RECOVERY_ROOM, "Day one again", "Starting over today.")
    assert partner_client.get(f"/flags/new?item_type=post&item_id={made.post_id}").status_code == 404
    assert partner_client.get("/flags/new?item_type=nonsense&item_id=1").status_code == 404
    assert partner_client.get("/flags/new?item_type=post&item_id=abc").status_code == 404


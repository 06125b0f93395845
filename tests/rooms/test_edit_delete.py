"""Members edit and delete their own posts, and only their own."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forum.db import db
from forum.rooms.models import Post, Thread
from tests.accounts.pages import text_of
from tests.conftest import Account
from tests.rooms.conftest import Made, add_reply, snapshot
from tests.rooms.dom import parse


def load(app: Flask, post_id: int) -> Post:
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post is not None
        db.session.expunge(post)
        return post


def test_author_edits_their_post_and_it_shows_as_edited(app: Flask, partner_client: FlaskClient,
                                                        partner_thread: Made, sent_events: list) -> None:
    post_id = partner_thread.post_id
    own = partner_client.get(f"/threads/{partner_thread.thread_id}").get_data(as_text=True)
    assert f'href="/posts/{post_id}/edit"' in own and f'href="/posts/{post_id}/delete"' in own
    form = partner_client.get(f"/posts/{post_id}/edit")
    assert form.status_code == 200
    assert partner_thread.body in form.get_data(as_text=True)  # the source, ready to rewrite
    response = partner_client.post(f"/posts/{post_id}/edit", data={"body": "A **calmer** version."})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/threads/{partner_thread.thread_id}#post-{post_id}"
    page = partner_client.get(f"/threads/{partner_thread.thread_id}").get_data(as_text=True)
    article = parse(page).by_id(f"post-{post_id}")
    assert "A calmer version." in article.text() and "<strong>calmer</strong>" in page
    assert "Edited" in article.text()
    assert partner_thread.body not in page
    post = load(app, post_id)
    assert post.body_source == "A **calmer** version." and post.edited_at is not None
    assert [(e.payload["op"], e.to) for e in sent_events] == [("update", f"thread:{partner_thread.thread_id}")]


def test_an_edit_is_checked_like_a_new_post(app: Flask, partner_client: FlaskClient, partner_thread: Made) -> None:
    before = snapshot(app)
    for body, message in (("   ", "Message can&#39;t be empty."),
                          ("x" * 20_001, "Message can be at most 20,000 characters (this is 20,001).")):
        response = partner_client.post(f"/posts/{partner_thread.post_id}/edit", data={"body": body})
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_others_cannot_edit_or_delete(app: Flask, partner_thread: Made, other_partner_client: FlaskClient,
                                      moderator_client: FlaskClient) -> None:
    before = snapshot(app)
    post_id = partner_thread.post_id
    for client in (other_partner_client, moderator_client):
        assert client.get(f"/posts/{post_id}/edit").status_code == 403
        assert client.post(f"/posts/{post_id}/edit", data={"body": "Hijacked"}).status_code == 403
        assert client.get(f"/posts/{post_id}/delete").status_code == 403
        assert client.post(f"/posts/{post_id}/delete").status_code == 403
        page = client.get(f"/threads/{partner_thread.thread_id}").get_data(as_text=True)
        assert f'href="/posts/{post_id}/edit"' not in page and f'href="/posts/{post_id}/delete"' not in page
    assert snapshot(app) == before


def test_author_deletes_their_post_and_the_replies_stay(app: Flask, partner_client: FlaskClient,
                                                         other_partner: Account, partner_thread: Made,
                                                         sent_events: list) -> None:
    post_id = partner_thread.post_id
    reply_id = add_reply(app, other_partner, post_id, "I'm so sorry you went through that.")
    confirm = partner_client.get(f"/posts/{post_id}/delete")
    assert confirm.status_code == 200 and "Delete your post?" in confirm.get_data(as_text=True)
    sent_events.clear()
    response = partner_client.post(f"/posts/{post_id}/delete")
    assert response.status_code == 302
    page = partner_client.get(f"/threads/{partner_thread.thread_id}").get_data(as_text=True)
    doc = parse(page)
    assert "deleted by its author" in doc.by_id(f"post-{post_id}").text()
    assert partner_thread.body not in page
    assert "I'm so sorry you went through that." in doc.by_id(f"post-{reply_id}").text()
    assert "Your post was deleted. Replies to it stay in the thread." in page
    post = load(app, post_id)
    assert post.status == "deleted" and post.body_source == "" and post.body_html == ""
    assert [(e.payload["op"], e.payload["id"], e.to) for e in sent_events] == [
        ("remove", post_id, f"thread:{partner_thread.thread_id}")]
    with app.app_context():
        thread = db.session.get(Thread, partner_thread.thread_id)
        assert thread is not None and thread.reply_count == 1
    # The reply is still counted where the thread is listed and on the thread itself.
    assert "· 1 reply" in text_of(page) and "0 replies" not in text_of(page)
    room = parse(partner_client.get(f"/rooms/{thread.room.slug}").get_data(as_text=True))
    (item,) = [li for li in room.find_all("li", "thread-item") if partner_thread.title in li.text()]
    assert "1 reply" in item.text() and "0 replies" not in item.text()
    # A deleted post can still be answered (the conversation goes on), but not edited.
    assert f'href="/posts/{post_id}/reply"' in page
    assert partner_client.get(f"/posts/{post_id}/edit").status_code == 403


def test_deleting_a_reply_counts_one_reply_fewer(app: Flask, partner: Account, other_partner: Account,
                                                 partner_client: FlaskClient, partner_thread: Made) -> None:
    first = add_reply(app, partner, partner_thread.post_id, "My own reply")
    add_reply(app, other_partner, partner_thread.post_id, "Someone else's reply")
    url = f"/threads/{partner_thread.thread_id}"
    assert "· 2 replies" in text_of(partner_client.get(url).get_data(as_text=True))
    partner_client.post(f"/posts/{first}/delete")
    assert "· 1 reply" in text_of(partner_client.get(url).get_data(as_text=True))
    partner_client.post(f"/posts/{partner_thread.post_id}/delete")  # the opening post: still one reply
    assert "· 1 reply" in text_of(partner_client.get(url).get_data(as_text=True))


def test_a_second_delete_changes_nothing(app: Flask, partner_client: FlaskClient, partner_thread: Made,
                                         sent_events: list) -> None:
    partner_client.post(f"/posts/{partner_thread.post_id}/delete")
    before = snapshot(app)
    sent_events.clear()
    response = partner_client.post(f"/posts/{partner_thread.post_id}/delete")
    assert response.status_code == 302
    assert snapshot(app) == before and sent_events == []


def test_deleting_a_reply_keeps_its_own_replies_nested(app: Flask, partner: Account, other_partner: Account,
                                                       partner_client: FlaskClient, partner_thread: Made) -> None:
    middle = add_reply(app, partner, partner_thread.post_id, "Middle words")
    below = add_reply(app, other_partner, middle, "An answer to the middle")
    partner_client.post(f"/posts/{middle}/delete")
    doc = parse(partner_client.get(f"/threads/{partner_thread.thread_id}").get_data(as_text=True))
    item = doc.by_id(f"post-{below}").parent
    assert item is not None and item.parent is not None and "replies" in item.parent.classes
    owner = item.parent.parent
    assert owner is not None and owner.child_elements("article")[0].attrs["id"] == f"post-{middle}"
    with app.app_context():
        assert db.session.scalar(select(Post.status).where(Post.id == below)) == "published"

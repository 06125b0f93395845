"""Thread pages: nested replies, the depth limit and "continue this thread", paging,
and a query count that does not grow with the number of posts."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum.db import db
from forum.rooms.models import Post, Thread
from tests.conftest import Account
from tests.rooms.conftest import PARTNER_ROOM, Made, add_reply, bulk_thread, count_queries, start_thread
from tests.rooms.dom import Element, parse


def parent_in_page(doc: Element, post_id: int) -> int | None:
    """The id of the post whose replies list shows ``post_id`` (None for a top-level item)."""
    article = doc.by_id(f"post-{post_id}")
    item = article.parent
    assert item is not None and item.tag == "li"
    replies = item.parent
    assert replies is not None
    if "replies" not in replies.classes:
        return None
    owner = replies.parent
    assert owner is not None and owner.tag == "li"
    (owner_article,) = owner.child_elements("article")
    return int(owner_article.attrs["id"].removeprefix("post-"))


def shown_ids(body: str) -> list[int]:
    return [int(m) for m in re.findall(r'<article class="post[^"]*" id="post-(\d+)"', body)]


def test_replies_show_under_what_they_answer_oldest_first(app: Flask, partner: Account, other_partner: Account,
                                                          partner_client: FlaskClient, partner_thread: Made) -> None:
    opening = partner_thread.post_id
    a = add_reply(app, other_partner, opening, "First answer")
    b = add_reply(app, partner, opening, "Second answer")
    a1 = add_reply(app, partner, a, "Answer to the first answer")
    a2 = add_reply(app, other_partner, a, "Another answer to the first answer")
    a1a = add_reply(app, other_partner, a1, "Three levels down")

    body = partner_client.get(f"/threads/{partner_thread.thread_id}").get_data(as_text=True)
    doc = parse(body)
    assert parent_in_page(doc, opening) is None
    assert parent_in_page(doc, a) == opening and parent_in_page(doc, b) == opening
    assert parent_in_page(doc, a1) == a and parent_in_page(doc, a2) == a
    assert parent_in_page(doc, a1a) == a1
    # Reading order: a post, then everything below it, siblings oldest first.
    assert shown_ids(body) == [opening, a, a1, a1a, a2, b]
    # Every post can be answered, and the reply link says whom it answers.
    for post_id in (opening, a, b, a1, a2, a1a):
        assert f'href="/posts/{post_id}/reply"' in body
    assert doc.by_id(f"post-{a}-by").text() == "Gentle Cedar 12"


def test_answering_through_the_forms(app: Flask, partner_client: FlaskClient, partner_thread: Made) -> None:
    thread_id = partner_thread.thread_id
    form = partner_client.get(f"/posts/{partner_thread.post_id}/reply")
    assert form.status_code == 200 and partner_thread.body in form.get_data(as_text=True)
    response = partner_client.post(f"/posts/{partner_thread.post_id}/replies",
                                   data={"body": "Answer from the reply page", "submit_key": "reply-form-1"})
    assert response.status_code == 302
    with app.app_context():
        first = db.session.scalar(select(Post).where(Post.body_source == "Answer from the reply page"))
        assert first is not None and first.parent_id == partner_thread.post_id
    assert response.headers["Location"] == f"/threads/{thread_id}#post-{first.id}"

    # The form at the foot of the thread answers the opening post.
    response = partner_client.post(f"/threads/{thread_id}/replies", data={"body": "Answer from the thread page"})
    assert response.status_code == 302
    response = partner_client.post(f"/posts/{first.id}/replies", data={"body": "Answer to an answer"})
    page = parse(partner_client.get(f"/threads/{thread_id}").get_data(as_text=True))
    with app.app_context():
        ids = {p.body_source: p.id for p in db.session.scalars(select(Post).where(Post.thread_id == thread_id))}
    assert parent_in_page(page, ids["Answer from the thread page"]) == partner_thread.post_id
    assert parent_in_page(page, ids["Answer to an answer"]) == first.id
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        assert thread is not None and thread.post_count == 4


def chain(app: Flask, author: Account, made: Made, length: int) -> list[int]:
    """Replies each answering the one before: ids at depth 1..length."""
    ids, parent = [], made.post_id
    for depth in range(1, length + 1):
        parent = add_reply(app, author, parent, f"Reply at depth {depth}")
        ids.append(parent)
    return ids


def test_nesting_stops_at_the_limit_and_continue_this_thread_takes_over(
        app: Flask, partner: Account, partner_client: FlaskClient, partner_thread: Made) -> None:
    limit = app.config["MAX_THREAD_DEPTH"]
    ids = chain(app, partner, partner_thread, limit + 3)  # depths 1..limit+3
    body = partner_client.get(f"/threads/{partner_thread.thread_id}").get_data(as_text=True)
    doc = parse(body)
    assert shown_ids(body) == [partner_thread.post_id, *ids[:limit]]
    deepest = ids[limit - 1]
    nesting = max(sum(1 for a in e.ancestors() if "replies" in a.classes) for e in doc.find_all("article"))
    assert nesting == limit
    continue_links = doc.find_all("a", where=lambda e: e.text().startswith("Continue this thread"))
    assert [a.attrs["href"] for a in continue_links] == [f"/posts/{deepest}"]

    branch = partner_client.get(f"/posts/{deepest}")
    assert branch.status_code == 200
    branch_body = branch.get_data(as_text=True)
    branch_doc = parse(branch_body)
    assert shown_ids(branch_body) == ids[limit - 1:]
    assert parent_in_page(branch_doc, ids[limit]) == deepest
    assert "Back to the whole thread" in branch_body and partner_thread.title in branch_body
    assert f'href="/posts/{ids[limit - 2]}"' in branch_body  # up one level


def test_a_reply_past_the_limit_lands_in_its_continue_view(
        app: Flask, partner: Account, partner_client: FlaskClient, partner_thread: Made) -> None:
    limit = app.config["MAX_THREAD_DEPTH"]
    ids = chain(app, partner, partner_thread, limit + 1)
    response = partner_client.post(f"/posts/{ids[-1]}/replies", data={"body": "Deeper still"})
    with app.app_context():
        new_id = db.session.scalar(select(Post.id).where(Post.body_source == "Deeper still"))
    assert response.headers["Location"] == f"/posts/{ids[limit - 1]}#post-{new_id}"
    assert "Deeper still" in partner_client.get(response.headers["Location"]).get_data(as_text=True)


def thread_page_queries(app: Flask, client: FlaskClient, url: str) -> tuple[int, str]:
    client.get(url)  # warm: the first request of a session may do one-off work
    with count_queries(app) as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements), response.get_data(as_text=True)


def test_thread_page_queries_do_not_grow_with_the_number_of_posts(
        app: Flask, partner: Account, partner_client: FlaskClient) -> None:
    small = bulk_thread(app, partner.id, PARTNER_ROOM, 10)
    big = bulk_thread(app, partner.id, PARTNER_ROOM, 1000)
    small_count, small_body = thread_page_queries(app, partner_client, f"/threads/{small}")
    big_count, big_body = thread_page_queries(app, partner_client, f"/threads/{big}")
    pages = re.search(r"page 1 of (\d+)", big_body)
    assert pages is not None and int(pages.group(1)) > 1
    last_count, _ = thread_page_queries(app, partner_client, f"/threads/{big}?page={pages.group(1)}")
    print(f"\nthread page SQL queries: 10 posts {small_count}, 1000 posts {big_count}, "
          f"1000 posts last page {last_count}")
    assert big_count == small_count
    assert last_count <= small_count  # no post at the depth limit there: one query fewer
    # Fixed per request (session, member, other features' badges) plus three for the posts; one
    # query per post would show up here already for ten posts.
    assert small_count <= 12
    # Both pages show the "continue" link of the capped nesting; the big one is paginated.
    assert "Continue this thread" in small_body and "Continue this thread" in big_body
    per_page = app.config["POSTS_PER_PAGE"]
    assert len(shown_ids(big_body)) == per_page
    assert 'rel="next"' in big_body


def test_the_continue_view_queries_do_not_grow_either(app: Flask, partner: Account,
                                                      partner_client: FlaskClient) -> None:
    small = bulk_thread(app, partner.id, PARTNER_ROOM, 10)
    big = bulk_thread(app, partner.id, PARTNER_ROOM, 1000)
    with app.app_context():
        roots = [db.session.scalar(select(Post.id).where(Post.thread_id == t, Post.depth == 1).order_by(Post.id))
                 for t in (small, big)]
    counts = [thread_page_queries(app, partner_client, f"/posts/{root}")[0] for root in roots]
    assert counts[0] == counts[1]


def test_a_big_thread_pages_through_every_post_once(app: Flask, partner: Account, partner_client: FlaskClient) -> None:
    app.config["POSTS_PER_PAGE"] = 40
    thread_id = bulk_thread(app, partner.id, PARTNER_ROOM, 150, fanout=2)
    limit = app.config["MAX_THREAD_DEPTH"]
    with app.app_context():
        expected = list(db.session.scalars(select(Post.id).where(Post.thread_id == thread_id, Post.depth <= limit)
                                           .order_by(Post.sort_key)))
    seen: list[int] = []
    page = 1
    while True:
        response = partner_client.get(f"/threads/{thread_id}?page={page}")
        if response.status_code == 404:
            break
        body = response.get_data(as_text=True)
        seen += shown_ids(body)
        if page > 1:
            assert "Answers an earlier post" in body  # a page that starts mid-conversation says so
        page += 1
    assert seen == expected
    assert page - 1 == -(-len(expected) // 40)
    assert partner_client.get(f"/threads/{thread_id}?page=abc").status_code == 200


def test_a_reply_on_a_later_page_redirects_to_that_page(app: Flask, partner: Account,
                                                        partner_client: FlaskClient) -> None:
    app.config["POSTS_PER_PAGE"] = 20
    thread_id = bulk_thread(app, partner.id, PARTNER_ROOM, 100, fanout=2)
    with app.app_context():
        last = db.session.scalar(select(Post).where(Post.thread_id == thread_id, Post.depth <= 3)
                                 .order_by(Post.sort_key.desc()).limit(1))
        assert last is not None
        last_id = last.id
    response = partner_client.post(f"/posts/{last_id}/replies", data={"body": "Late answer"})
    location = response.headers["Location"]
    assert re.fullmatch(rf"/threads/{thread_id}\?page=\d+#post-\d+", location), location
    assert "Late answer" in partner_client.get(location).get_data(as_text=True)


def test_replies_tell_open_thread_pages_after_commit(app: Flask, partner_client: FlaskClient,
                                                     partner_thread: Made, sent_events: list) -> None:
    partner_client.post(f"/posts/{partner_thread.post_id}/replies", data={"body": "A live answer"})
    with app.app_context():
        new_id = db.session.scalar(select(func.max(Post.id)))
    assert [(e.name, e.payload, e.to) for e in sent_events] == [
        ("post", {"type": "post", "op": "add", "thread_id": partner_thread.thread_id, "id": new_id},
         f"thread:{partner_thread.thread_id}")]


def test_a_held_reply_tells_moderators_not_the_thread(app: Flask, partner_thread: Made, sent_events: list) -> None:
    from tests.conftest import login, register

    newcomer = register(app, "New Here 5", "partner")
    with app.app_context():
        from forum.accounts.models import Member

        member = db.session.get(Member, newcomer.id)
        assert member is not None
        member.published_posts = 0
        db.session.commit()
    client = login(app.test_client(), newcomer)
    response = client.post(f"/posts/{partner_thread.post_id}/replies", data={"body": "My first reply"})
    assert response.status_code == 302
    assert "moderators" in [e.to for e in sent_events]
    assert f"thread:{partner_thread.thread_id}" not in [e.to for e in sent_events]
    own_view = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "A moderator will look at it shortly" in own_view
    # The author sees their held reply, marked as waiting; nobody else in the room does.
    assert "My first reply" in own_view and "Waiting for review" in own_view


def test_replying_bumps_thread_and_room_activity(app: Flask, other_partner: Account, partner: Account) -> None:
    older = start_thread(app, partner, PARTNER_ROOM, "Older thread", "Posted first.")
    start_thread(app, partner, PARTNER_ROOM, "Newer thread", "Posted second.")
    add_reply(app, other_partner, older.post_id, "Bringing this back up")
    with app.app_context():
        thread = db.session.get(Thread, older.thread_id)
        assert thread is not None and thread.post_count == 2
        reply_time = db.session.scalar(select(func.max(Post.created_at)))
        from forum.db import as_utc

        assert as_utc(thread.last_activity_at) == as_utc(reply_time)
        assert as_utc(thread.room.last_activity_at) == as_utc(reply_time)


def test_a_nudge_asks_first_and_stores_nothing_until_confirmed(app: Flask, partner_client: FlaskClient,
                                                               partner_thread: Made) -> None:
    from tests.rooms.conftest import snapshot

    url = f"/posts/{partner_thread.post_id}/replies"
    data = {"body": "You can reach me at quiet.harbor@example.com any time.", "submit_key": "nudge-key-01"}
    before = snapshot(app)
    asked = partner_client.post(url, data=data)
    assert asked.status_code == 409
    page = asked.get_data(as_text=True)
    assert 'name="confirmed" value="yes"' in page and "Post it as it is" in page
    assert "quiet.harbor@example.com" in page  # what was typed is kept for editing
    assert 'value="nudge-key-01"' in page  # the same submission, so a confirm can't double-post
    assert snapshot(app) == before
    confirmed = partner_client.post(url, data={**data, "confirmed": "yes"})
    assert confirmed.status_code == 302
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.submit_key == "nudge-key-01"))
        assert post is not None and post.status == "held"  # identifying details wait for a moderator

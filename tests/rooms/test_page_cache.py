"""Thread pages keep their rendered posts per thread version (forum/rooms/fragments.py).

Each test fills the cache as one reader, then reads as another (or after a change), and checks
what that reader must see: a change to the thread shows at once, and what differs between
readers (mutes, one's own controls, held posts, moderators' view, names) never leaks from one
to another.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forum.accounts.models import Member
from forum.db import db, utcnow
from forum.rooms import actions, fragments
from forum.rooms.models import Post, Thread
from tests.conftest import Account, login, register
from tests.rooms.conftest import PARTNER_ROOM, Made, add_reply, count_queries, start_thread

MUTED = "Hidden because you muted this member"


def page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def article(html: str, post_id: int) -> str:
    """The <article> of one post (its header, text and controls)."""
    start = html.index(f'id="post-{post_id}"')
    return html[start:html.index("</article>", start)]


def test_second_read_reuses_the_rendered_posts(app: Flask, partner: Account, other_partner: Account,
                                               partner_client: FlaskClient,
                                               other_partner_client: FlaskClient) -> None:
    made = start_thread(app, partner, PARTNER_ROOM, "Cached", "First words.")
    add_reply(app, other_partner, made.post_id, "A reply.")
    url = f"/threads/{made.thread_id}"
    first = page(other_partner_client, url)
    with count_queries(app) as statements:
        second = page(other_partner_client, url)
    # The same posts, apart from the tokens (signed with the time) and the form's fresh submit key.
    fresh = re.compile(r'name="(csrf_token|csrf-token|submit_key)" (value|content)="[^"]*"')
    assert fresh.sub("", second) == fresh.sub("", first)
    assert not [s for s in statements if "FROM post" in s]  # the posts were not read again
    # Another member reading alike gets the same rendering, with their own controls.
    mine = page(partner_client, url)
    assert f"/posts/{made.post_id}/edit" in article(mine, made.post_id)
    assert f"/posts/{made.post_id}/edit" not in article(first, made.post_id)


def test_every_change_to_the_thread_shows_at_once(app: Flask, partner: Account, other_partner: Account,
                                                  moderator: Account, partner_client: FlaskClient,
                                                  other_partner_client: FlaskClient,
                                                  moderator_client: FlaskClient) -> None:
    made = start_thread(app, partner, PARTNER_ROOM, "Changing", "Original words.")
    reply_id = add_reply(app, other_partner, made.post_id, "Reply to be edited.")
    url = f"/threads/{made.thread_id}"
    assert "Original words." in page(other_partner_client, url)

    new_id = add_reply(app, other_partner, made.post_id, "A brand-new reply.")
    assert "A brand-new reply." in page(other_partner_client, url)

    other_partner_client.post(f"/posts/{reply_id}/edit", data={"body": "Reply after the edit."})
    html = page(partner_client, url)
    assert "Reply after the edit." in html and "Reply to be edited." not in html

    moderator_client.post(f"/posts/{made.post_id}/warning", data={"content_warning": "Relapse"})
    assert "<summary>Content warning: Relapse" in article(page(other_partner_client, url), made.post_id)

    other_partner_client.post(f"/posts/{reply_id}/delete")
    assert "This post was deleted by its author." in article(page(partner_client, url), reply_id)

    with app.app_context():
        post = db.session.get_one(Post, new_id)
        actions.set_post_visibility(db.session, post, "removed")
        db.session.commit()
    html = page(other_partner_client, url)
    assert "This post was removed by a moderator." in article(html, new_id)
    assert "A brand-new reply." not in html
    # Moderators still read it, marked, whoever filled the cache first.
    assert "A brand-new reply." in article(page(moderator_client, url), new_id)
    assert "Removed</span>" in article(page(moderator_client, url), new_id)


def test_a_muted_author_stays_hidden_and_only_for_the_one_who_muted(
        app: Flask, partner: Account, other_partner: Account, partner_client: FlaskClient,
        other_partner_client: FlaskClient) -> None:
    made = start_thread(app, partner, PARTNER_ROOM, "Muting", "Words of the author.")
    third = register(app, "Bright Meadow 14", "partner")
    third_client = login(app.test_client(), third)
    reply_id = add_reply(app, third, made.post_id, "A third member's reply.")
    url = f"/threads/{made.thread_id}"
    page(third_client, url)  # cached by a reader who muted nobody

    assert other_partner_client.post(f"/posts/{made.post_id}/mute-author").status_code == 302
    muter = page(other_partner_client, url)
    opening = article(muter, made.post_id)
    assert MUTED in opening and "A member you muted" in opening and "Quiet Harbor 11" not in opening
    assert f"/posts/{made.post_id}/mute-author" not in opening  # no second mute control
    assert MUTED not in article(muter, reply_id)
    # The muter's view was not kept for others: the third member still sees the name.
    other = page(third_client, url)
    assert MUTED not in other and "Quiet Harbor 11" in article(other, made.post_id)
    # And the muted author sees nothing change.
    assert MUTED not in page(partner_client, url)


def test_names_are_read_fresh(app: Flask, partner: Account, other_partner: Account,
                              other_partner_client: FlaskClient) -> None:
    made = start_thread(app, partner, PARTNER_ROOM, "Names", "Hello.")
    url = f"/threads/{made.thread_id}"
    assert "Quiet Harbor 11" in article(page(other_partner_client, url), made.post_id)
    with app.app_context():
        from forum.safety.actions import do_change_pseudonym

        do_change_pseudonym(db.session, db.session.get_one(Member, partner.id), "Silver Birch 15")
        db.session.commit()
    opening = article(page(other_partner_client, url), made.post_id)
    assert "Silver Birch 15" in opening and "Quiet Harbor 11" not in opening


def test_a_deleted_account_is_a_former_member_even_if_its_id_comes_back(
        app: Flask, partner: Account, other_partner_client: FlaskClient) -> None:
    leaving = register(app, "Soft Willow 16", "partner")
    made = start_thread(app, partner, PARTNER_ROOM, "Leaving", "Opening.")
    reply_id = add_reply(app, leaving, made.post_id, "Words that stay after I go.")
    url = f"/threads/{made.thread_id}"
    assert "Soft Willow 16" in page(other_partner_client, url)
    with app.app_context():
        from forum.safety.actions import do_delete_account

        do_delete_account(db.session, db.session.get_one(Member, leaving.id), password=leaving.password,
                          keep_posts=True)
        db.session.commit()
    newcomer = register(app, "New Dawn 17", "partner")  # SQLite may hand out the freed id again
    for client in (other_partner_client, login(app.test_client(), newcomer)):
        reply = article(page(client, url), reply_id)
        assert "A former member" in reply and "Soft Willow 16" not in reply and "New Dawn 17" not in reply
        assert f"/posts/{reply_id}/edit" not in reply and "mute-author" not in reply


def test_a_held_post_shows_to_its_author_only(app: Flask, partner: Account, other_partner_client: FlaskClient,
                                              moderator_client: FlaskClient) -> None:
    newcomer = register(app, "Fresh Start 18", "partner")
    with app.app_context():
        db.session.get_one(Member, newcomer.id).published_posts = 0  # a new member's posts wait for review
        db.session.commit()
    made = start_thread(app, partner, PARTNER_ROOM, "Welcome", "Say hello.")
    held_id = add_reply(app, newcomer, made.post_id, "My first words here.")
    with app.app_context():
        assert db.session.get_one(Post, held_id).status == "held"
    url = f"/threads/{made.thread_id}"
    newcomer_client = login(app.test_client(), newcomer)
    for _ in range(2):  # in either order, cached or not
        assert "My first words here." not in page(other_partner_client, url)
        theirs = page(newcomer_client, url)
        assert "My first words here." in theirs and "Waiting for review" in article(theirs, held_id)
        assert f"/posts/{held_id}/edit" in article(theirs, held_id)
        assert "My first words here." in page(moderator_client, url)


def test_reply_links_follow_the_reader(app: Flask, partner: Account, other_partner: Account,
                                       partner_client: FlaskClient, other_partner_client: FlaskClient) -> None:
    made = start_thread(app, partner, PARTNER_ROOM, "Replies", "Anyone?")
    url = f"/threads/{made.thread_id}"
    assert f"/posts/{made.post_id}/reply" in page(partner_client, url)
    with app.app_context():
        from datetime import timedelta

        db.session.get_one(Member, other_partner.id).muted_until = utcnow() + timedelta(hours=1)
        db.session.commit()
    muted = page(other_partner_client, url)
    assert f"/posts/{made.post_id}/reply" not in muted and "Reply to this thread" not in muted
    assert f"/posts/{made.post_id}/reply" in page(partner_client, url)


def test_flag_link_returns_to_the_page_it_was_on(app: Flask, partner: Account,
                                                 other_partner_client: FlaskClient) -> None:
    made = start_thread(app, partner, PARTNER_ROOM, "Flags", "Flag me.")
    for query in ("", "?page=1", "?page=1&x=%27a+b%27&y=%26"):
        html = page(other_partner_client, f"/threads/{made.thread_id}{query}")
        href = re.search(r'href="(/flags/new[^"]*)"', html)
        assert href is not None
        values = parse_qs(urlsplit(href.group(1).replace("&amp;", "&")).query)
        assert values["item_id"] == [str(made.post_id)]
        with app.test_request_context(f"/threads/{made.thread_id}{query}"):
            from flask import request

            expected = request.full_path.rstrip("?") + f"#post-{made.post_id}"
        assert values["next"] == [expected]


def test_two_replies_at_once_both_change_the_version(app: Flask, partner: Account,
                                                     other_partner: Account) -> None:
    """Each reply must move the version on, or a page cached in between would stay stale."""
    made: Made = start_thread(app, partner, PARTNER_ROOM, "Race", "Start.")
    with app.app_context():
        before = db.session.scalar(select(Thread.version).where(Thread.id == made.thread_id))
        first, second = db.new_session(), db.new_session()
        writers = []
        for session, account in ((first, partner), (second, other_partner)):
            thread = session.get_one(Thread, made.thread_id)  # both read the thread before either writes
            writers.append((session, session.get_one(Member, account.id), session.get_one(Post, made.post_id),
                            thread))
        for session, member, parent, _thread in writers:
            actions.do_reply(session, member, parent, body=f"Reply from {member.pseudonym}.")
            session.commit()
            session.close()
        after = db.session.scalar(select(Thread.version).where(Thread.id == made.thread_id))
    assert after == before + 2


def test_the_cache_stays_within_its_budget() -> None:
    cache = fragments.PageCache(max_chars=100)
    for key in range(10):
        cache.put(key, fragments.Resolved(["x" * 30], (), 30))
    assert len(cache) == 3 and cache.get(9) is not None and cache.get(0) is None
    cache.put("big", fragments.Resolved(["x" * 500], (), 500))
    assert cache.get("big") is None


def test_reading_pages_writes_nothing(app: Flask, partner: Account, other_partner: Account,
                                      other_partner_client: FlaskClient) -> None:
    """GETs only read: the session's "last seen" is written at most once a minute, not per page."""
    made = start_thread(app, partner, PARTNER_ROOM, "Reading", "Just reading.")
    add_reply(app, partner, made.post_id, "A reply to read.")
    urls = ["/rooms", f"/rooms/{PARTNER_ROOM}", f"/threads/{made.thread_id}", f"/posts/{made.post_id}"]
    for url in urls:  # the first reads may warm caches
        page(other_partner_client, url)
    with count_queries(app) as statements:
        for url in urls * 3:
            page(other_partner_client, url)
    writes = [s for s in statements if s.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []


# The whole page (fragments.whole_page) ------------------------------------------------------

def _menu_name(html: str) -> str:
    found = re.search(r'<a href="/account">([^<]*)</a>', html)
    assert found is not None
    return found.group(1)


def _field(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]*)"', html)


def test_a_kept_page_still_carries_each_readers_own_parts(app: Flask, partner: Account, other_partner: Account,
                                                          other_partner_client: FlaskClient) -> None:
    made = start_thread(app, partner, PARTNER_ROOM, "Kept whole", "Opening words.")
    url = f"/threads/{made.thread_id}"
    first = page(other_partner_client, url)  # renders and keeps the page
    third = register(app, "Calm River 19", "partner")  # reads alike: no posts, no mutes
    third_client = login(app.test_client(), third)
    with app.app_context():
        from forum.moderation.notices import send_notice

        send_notice(db.session, third.id, "warned", "A kind word.")
        db.session.commit()
    rendered: list[str] = []

    def record(_sender: Flask, template: object, context: object, **_extra: object) -> None:
        rendered.append(str(getattr(template, "name", "")))

    from flask import template_rendered

    with template_rendered.connected_to(record, app):
        again = page(other_partner_client, url)
        theirs = page(third_client, url)
    assert "rooms/thread.html" not in rendered and "rooms/_posts.html" not in rendered  # served from what was kept
    assert _menu_name(first) == _menu_name(again) == other_partner.pseudonym
    assert _menu_name(theirs) == third.pseudonym and other_partner.pseudonym not in theirs
    assert "Notices (1)" in theirs and "Notices (" not in again
    # Every token on the page is the reader's own; every request gets a fresh submit key; the form posts.
    tokens = set(_field(theirs, "csrf_token")) | set(re.findall(r'name="csrf-token" content="([^"]*)"', theirs))
    assert len(tokens) == 1 and tokens.isdisjoint(_field(first, "csrf_token"))
    assert _field(first, "submit_key") != _field(again, "submit_key")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = third_client.post(f"/threads/{made.thread_id}/replies", data={
            "csrf_token": _field(theirs, "csrf_token")[0], "submit_key": _field(theirs, "submit_key")[0],
            "body": "Posted from a page that was kept whole."})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    assert "Posted from a page that was kept whole." in page(other_partner_client, url)


def test_a_changed_heading_shows_at_once(app: Flask, partner: Account, other_partner_client: FlaskClient) -> None:
    made = start_thread(app, partner, PARTNER_ROOM, "Before", "Opening words.")
    url = f"/threads/{made.thread_id}"
    assert "Before" in page(other_partner_client, url)
    with app.app_context():
        thread = db.session.get_one(Thread, made.thread_id)
        thread.title, thread.locked = "After", True  # changes no post, so the version stays
        db.session.commit()
    html = page(other_partner_client, url)
    assert "<h1>After</h1>" in html and "This thread is closed to new replies." in html
    assert "Reply to this thread" not in html
    with app.app_context():
        from forum.safety.actions import do_change_pseudonym

        do_change_pseudonym(db.session, db.session.get_one(Member, partner.id), "Silver Birch 15")
        db.session.commit()
    assert "Started by Silver Birch 15" in page(other_partner_client, url)


def test_a_flashed_message_is_shown_once_on_the_thread_page(app: Flask, partner: Account,
                                                            other_partner_client: FlaskClient) -> None:
    made = start_thread(app, partner, PARTNER_ROOM, "Flash", "Opening words.")
    url = f"/threads/{made.thread_id}"
    page(other_partner_client, url)
    with other_partner_client.session_transaction() as session:
        session["_flashes"] = [("message", "A message for this reader alone.")]
    assert "A message for this reader alone." in page(other_partner_client, url)
    assert "A message for this reader alone." not in page(other_partner_client, url)

"""Muting: the muted member's posts become a placeholder the reader can open (no JavaScript),
for the one who muted only; the muted member is never told and sees nothing change."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum.accounts.models import MemberMute, Notice
from forum.db import db
from forum.safety.queries import members_muting, muted_member_ids
from tests.conftest import Account
from tests.safety.conftest import add_reply, start_thread

PLACEHOLDER = "Hidden because you muted this member"


def _mute(client: FlaskClient, post_id: int) -> None:
    response = client.post(f"/posts/{post_id}/mute-author")
    assert response.status_code == 302


def test_muted_members_posts_are_a_placeholder_that_opens(app: Flask, partner: Account, other_partner: Account,
                                                        partner_client: FlaskClient,
                                                        other_partner_client: FlaskClient) -> None:
    made = start_thread(app, other_partner, "Day three", "The words of the muted member.")
    add_reply(app, partner, made.post_id, "My own reply stays visible.")
    before = partner_client.get(f"/threads/{made.thread_id}").get_data(as_text=True)
    assert "Mute author" in before and PLACEHOLDER not in before

    _mute(partner_client, made.post_id)
    html = partner_client.get(f"/threads/{made.thread_id}").get_data(as_text=True)
    assert PLACEHOLDER in html
    # The text is inside a closed <details>: one click shows it, without JavaScript.
    details = html[html.index('<details class="muted-post">'):]
    details = details[:details.index("</details>")]
    assert "<summary>" in details and "The words of the muted member." in details and " open" not in details.split(">")[0]
    posts = html[html.index('<ol class="posts"'):]
    assert "Gentle Cedar 12" not in posts  # not even in the screen-reader text of the Reply link
    assert "My own reply stays visible." in html
    assert "Mute author" not in html.split("My own reply")[0].split("muted-post")[1]  # no second mute control

    # The muted member sees the thread exactly as before, and gets no notice.
    theirs = other_partner_client.get(f"/threads/{made.thread_id}").get_data(as_text=True)
    assert PLACEHOLDER not in theirs and "The words of the muted member." in theirs
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notice)) == 0


def test_account_page_lists_mutes_and_unmute_restores_posts(app: Flask, partner: Account, other_partner: Account,
                                                           partner_client: FlaskClient) -> None:
    made = start_thread(app, other_partner, "Hello", "Visible again later.")
    _mute(partner_client, made.post_id)
    _mute(partner_client, made.post_id)  # twice is the same as once
    account = partner_client.get("/account").get_data(as_text=True)
    assert "Gentle Cedar 12" in account and f"/account/muted/{other_partner.id}/unmute" in account
    with app.app_context():
        assert muted_member_ids(db.session, partner.id) == {other_partner.id}
        assert members_muting(db.session, other_partner.id) == {partner.id}
        assert db.session.scalar(select(func.count()).select_from(MemberMute)) == 1

    assert partner_client.post(f"/account/muted/{other_partner.id}/unmute").status_code == 302
    html = partner_client.get(f"/threads/{made.thread_id}").get_data(as_text=True)
    assert PLACEHOLDER not in html and "Visible again later." in html
    assert "You haven’t muted anyone" in partner_client.get("/account").get_data(as_text=True)


def test_cannot_mute_yourself_or_through_a_post_you_cannot_see(app: Flask, partner: Account, recovering: Account,
                                                               partner_client: FlaskClient) -> None:
    own = start_thread(app, partner, "Mine", "My words.")
    assert partner_client.post(f"/posts/{own.post_id}/mute-author").status_code == 400
    other_path = start_thread(app, recovering, "Recovery room", "Not for partners.")
    assert partner_client.post(f"/posts/{other_path.post_id}/mute-author").status_code == 404
    with app.app_context():
        assert muted_member_ids(db.session, partner.id) == set()


def test_mute_needs_a_login_and_post(app: Flask, other_partner: Account, client: FlaskClient,
                                     partner_client: FlaskClient) -> None:
    made = start_thread(app, other_partner, "Hello", "Text.")
    assert client.post(f"/posts/{made.post_id}/mute-author").status_code == 302  # to log in
    assert client.get(f"/posts/{made.post_id}/mute-author").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MemberMute)) == 0


def test_the_thread_page_links_to_a_page_that_asks_before_muting(app: Flask, partner: Account,
                                                                  other_partner: Account,
                                                                  partner_client: FlaskClient) -> None:
    """A link under each post rather than a form (a form would carry a CSRF token per post);
    the page it opens says what muting does and mutes only when its button is pressed."""
    made = start_thread(app, other_partner, "Hello", "Text.")
    page = partner_client.get(f"/threads/{made.thread_id}").get_data(as_text=True)
    link = f'<a href="/posts/{made.post_id}/mute-author">Mute author'
    assert link in page and 'action="/posts/' not in page.split(link)[0][-300:]

    confirm = partner_client.get(f"/posts/{made.post_id}/mute-author")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Mute Gentle Cedar 12?" in html and "They are not told" in html
    assert f'action="/posts/{made.post_id}/mute-author"' in html and 'name="csrf_token"' in html
    with app.app_context():
        assert muted_member_ids(db.session, partner.id) == set()  # asking writes nothing

    _mute(partner_client, made.post_id)
    again = partner_client.get(f"/posts/{made.post_id}/mute-author").get_data(as_text=True)
    assert "You have muted Gentle Cedar 12" in again and "mute-author" not in again.split("<main")[-1]
    with app.app_context():
        assert muted_member_ids(db.session, partner.id) == {other_partner.id}


def test_no_page_asks_to_mute_yourself(app: Flask, partner: Account, partner_client: FlaskClient) -> None:
    own = start_thread(app, partner, "Mine", "My words.")
    response = partner_client.get(f"/posts/{own.post_id}/mute-author")
    assert response.status_code == 400 and "mute yourself" in response.get_data(as_text=True)


def test_mute_from_a_chat_line(app: Flask, partner: Account, other_partner: Account, recovering: Account,
                               partner_client: FlaskClient) -> None:
    from forum.chat.models import ChatMessage
    from forum.rooms.models import Room

    with app.app_context():
        rooms = {r.slug: r.id for r in db.session.scalars(select(Room))}
        theirs = ChatMessage(room_id=rooms["just-found-out"], author_id=other_partner.id, body="hi", body_html="hi")
        other_path = ChatMessage(room_id=rooms["early-days"], author_id=recovering.id, body="x", body_html="x")
        db.session.add_all([theirs, other_path])
        db.session.commit()
        theirs_id, other_path_id = theirs.id, other_path.id
    response = partner_client.post(f"/chat/messages/{theirs_id}/mute-author", headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.get_json() == {"ok": True}
    assert partner_client.post(f"/chat/messages/{other_path_id}/mute-author").status_code == 404
    with app.app_context():
        assert muted_member_ids(db.session, partner.id) == {other_partner.id}
        assert db.session.scalar(select(func.count()).select_from(Notice)) == 0


def test_unmuting_an_impossible_member_id_is_a_quiet_no_op(partner_client: FlaskClient) -> None:
    for member_id in (0, 2**31, 2**63):
        response = partner_client.post(f"/account/muted/{member_id}/unmute")
        assert response.status_code == 302 and response.headers["Location"] == "/account#muted", member_id


def test_mutes_read_with_the_session_follow_a_mute_in_the_same_request(app: Flask, partner: Account,
                                                                      other_partner: Account) -> None:
    """The reader's mutes come with their session (forum.sessions); muting someone, or
    unmuting, within the request must not leave that copy behind."""
    from flask import g

    from forum.accounts.models import Member
    from forum.safety.actions import do_mute, do_unmute

    with app.test_request_context("/", method="POST"):
        muter = db.session.get_one(Member, partner.id)
        g.reader_mutes = (partner.id, frozenset())  # as the session read left it
        do_mute(db.session, muter, db.session.get_one(Member, other_partner.id))
        assert muted_member_ids(db.session, partner.id) == {other_partner.id}
        do_unmute(db.session, muter, other_partner.id)
        assert muted_member_ids(db.session, partner.id) == set()

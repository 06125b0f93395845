"""Bad input on the rooms routes: each gets a clear message or status, never a 500,
and never a partial write (every table's rows are compared before and after)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum.accounts.models import Member
from forum.db import db, utcnow
from forum.rooms.models import Post, Thread
from tests.conftest import Account, login, register
from tests.rooms.conftest import PARTNER_ROOM, Made, add_reply, snapshot, start_thread

NEW_THREAD = f"/rooms/{PARTNER_ROOM}/threads"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def thread(app: Flask, partner: Account) -> Made:
    return start_thread(app, partner, PARTNER_ROOM, "A thread to answer", "Opening words.")


def refused(app: Flask, send: Callable[[], object], status: int, *messages: str) -> str:
    """Send a request that must be refused; check its answer and that nothing was written."""
    before = snapshot(app)
    response = send()
    body = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.status_code == status, (response.status_code, body[:400])  # type: ignore[attr-defined]
    for message in messages:
        assert message.replace("'", "&#39;") in body, message
    assert snapshot(app) == before, "a refused request wrote something"
    return body


def test_oversized_bodies_get_413_with_the_error_page(app: Flask, partner_client: FlaskClient, thread: Made) -> None:
    huge = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1024)
    for url in (NEW_THREAD, f"/posts/{thread.post_id}/replies", f"/threads/{thread.thread_id}/replies",
                f"/posts/{thread.post_id}/edit"):
        body = refused(app, lambda url=url: partner_client.post(url, data={"title": "Big", "body": huge}), 413,
                       "That was too large for us to accept.")
        assert "<h1>" in body and "Skip to content" in body  # the full error page, not a bare status
    upload = {"title": "Big", "body": (io.BytesIO(huge.encode()), "big.txt")}
    refused(app, lambda: partner_client.post(NEW_THREAD, data=upload, content_type="multipart/form-data"), 413)


def test_a_message_over_20000_characters_is_refused(app: Flask, partner_client: FlaskClient, thread: Made) -> None:
    refused(app, lambda: partner_client.post(NEW_THREAD, data={"title": "Long", "body": "a" * 20_001}), 400,
            "Message can be at most 20,000 characters (this is 20,001).")
    refused(app, lambda: partner_client.post(f"/posts/{thread.post_id}/replies", data={"body": "é" * 20_001}), 400,
            "Message can be at most 20,000 characters")


@pytest.mark.parametrize("data, messages", [
    ({}, ["Title can't be empty.", "Message can't be empty."]),
    ({"title": "Only a title"}, ["Message can't be empty."]),
    ({"body": "Only a body"}, ["Title can't be empty."]),
    ({"title": "T", "body": "B", "content_warning": "w" * 121}, ["Content warning can be at most 120 characters"]),
    ({"title": "t" * 151, "body": "b" * 20_001}, ["Title can be at most 150", "Message can be at most 20,000"]),
])
def test_missing_and_malformed_fields(app: Flask, partner_client: FlaskClient, data: dict, messages: list) -> None:
    refused(app, lambda: partner_client.post(NEW_THREAD, data=data), 400, *messages)


def test_other_shapes_of_request(app: Flask, partner_client: FlaskClient, thread: Made) -> None:
    refused(app, lambda: partner_client.post(NEW_THREAD, json={"title": "JSON", "body": "Not a form"}), 400,
            "Title can't be empty.")
    # Stray percent signs are not escapes: kept as typed.
    response = partner_client.post(NEW_THREAD, data=b"title=100%&body=%zz%", content_type=FORM)
    assert response.status_code == 302
    assert "<h1>100%</h1>" in partner_client.get(response.headers["Location"]).get_data(as_text=True)
    # A file where a field should be: the message is missing, not a crash.
    refused(app, lambda: partner_client.post(
        f"/posts/{thread.post_id}/replies", data={"body": (io.BytesIO(b"file"), "x.txt")},
        content_type="multipart/form-data"), 400, "Message can't be empty.")
    assert partner_client.get(f"/posts/{thread.post_id}/replies").status_code == 405


@pytest.mark.parametrize("raw", [b"title=%FF%FE&body=ok", b"title=ok&body=caf\xe9", b"title=\xc3\x28&body=ok",
                                 b"title=ok&body=%ED%A0%80", b"title=ok&body=ok&submit_key=%C0%AF%C0%AF"])
def test_invalid_utf8_is_refused_clearly(app: Flask, partner_client: FlaskClient, thread: Made, raw: bytes) -> None:
    for url in (NEW_THREAD, f"/posts/{thread.post_id}/replies", f"/posts/{thread.post_id}/edit"):
        refused(app, lambda url=url: partner_client.post(url, data=raw, content_type=FORM), 400,
                "isn't readable text (it wasn't valid UTF-8), so nothing was posted.")


def test_invalid_utf8_is_refused_on_every_form_even_after_csrf_has_read_it(
        app: Flask, partner: Account, thread: Made) -> None:
    """With CSRF on (as in production) the token check parses the form before any view does:
    the body must be judged before that parse, on every route, not in each view."""
    from tests.accounts.pages import form_posting_to

    app.config["WTF_CSRF_ENABLED"] = True
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    token = form_posting_to(page, "/login").data()["csrf_token"]
    assert token
    raw = f"csrf_token={token}&pseudonym={partner.pseudonym}&password=calm%FFharbor".encode()
    refused(app, lambda: browser.post("/login", data=raw, content_type=FORM), 400, "wasn't valid UTF-8")
    login_form = form_posting_to(browser.get("/login").get_data(as_text=True), "/login")
    assert browser.post("/login", data=login_form.data(pseudonym=partner.pseudonym,
                                                       password=partner.password)).status_code == 302
    page = browser.get(f"/rooms/{PARTNER_ROOM}/new").get_data(as_text=True)
    token = form_posting_to(page, NEW_THREAD).data()["csrf_token"]
    for url in (NEW_THREAD, f"/posts/{thread.post_id}/replies", f"/posts/{thread.post_id}/edit",
                "/account/password"):
        body = f"csrf_token={token}&title=Caf%E9&body=caf%E9&current_password=x%FF&new_password=y%FF".encode()
        refused(app, lambda url=url, body=body: browser.post(url, data=body, content_type=FORM), 400,
                "isn't readable text (it wasn't valid UTF-8), so nothing was posted.")
    # The same forms, readable, go through.
    ok = browser.post(NEW_THREAD, data=f"csrf_token={token}&title=Caf%C3%A9&body=caf%C3%A9".encode(),
                      content_type=FORM)
    assert ok.status_code == 302


def test_replacement_characters_from_a_multipart_form_are_refused(app: Flask, partner_client: FlaskClient) -> None:
    body = (b"--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nok\r\n"
            b"--B\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\ncaf\xe9\r\n--B--\r\n")
    refused(app, lambda: partner_client.post(NEW_THREAD, data=body, content_type="multipart/form-data; boundary=B"),
            400, "Message contains characters we couldn't read. Please retype it.")


def test_nul_bytes_are_refused(app: Flask, partner_client: FlaskClient, thread: Made) -> None:
    refused(app, lambda: partner_client.post(NEW_THREAD, data={"title": "Nul\x00title", "body": "ok"}), 400,
            "Title contains invisible control characters.")
    refused(app, lambda: partner_client.post(f"/posts/{thread.post_id}/replies", data=b"body=a%00b",
                                             content_type=FORM), 400, "Message contains invisible control characters.")
    refused(app, lambda: partner_client.post(f"/posts/{thread.post_id}/edit",
                                             data={"body": "fine", "content_warning": "\x00"}), 400,
            "Content warning contains invisible control characters.")
    refused(app, lambda: partner_client.get("/rooms/just-found-out%00"), 404)
    refused(app, lambda: partner_client.get("/rooms/%00"), 404)
    assert partner_client.get(f"/threads/{thread.thread_id}?page=%00").status_code == 200


@pytest.mark.parametrize("url", [
    "/threads/987654", "/posts/987654", "/posts/987654/reply", "/posts/987654/edit", "/posts/987654/delete",
    "/rooms/no-such-room", "/rooms/no-such-room/new", "/threads/99999999999999999999999999",
    "/posts/99999999999999999999999999/reply", "/threads/2147483648", "/threads/0", "/threads/-1",
    "/threads/abc", "/posts/1.5", "/threads/%20", "/rooms/" + "a" * 2000, "/rooms/Just-Found-Out",
    "/rooms/%FF%FE", "/rooms/..%2F..%2Fetc",
])
def test_unknown_and_non_numeric_ids_are_not_found(app: Flask, partner_client: FlaskClient, url: str) -> None:
    body = refused(app, lambda: partner_client.get(url), 404, "We couldn")
    assert "Not found" in body


@pytest.mark.parametrize("url", [
    "/posts/987654/replies", "/threads/987654/replies", "/posts/99999999999999999999/edit",
    "/posts/987654/delete", "/rooms/no-such-room/threads", "/posts/abc/replies",
])
def test_writes_to_unknown_ids_are_not_found(app: Flask, partner_client: FlaskClient, url: str) -> None:
    refused(app, lambda: partner_client.post(url, data={"title": "T", "body": "B"}), 404)


def count_posts(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Post)) or 0


def test_a_double_submit_is_stored_once(app: Flask, partner_client: FlaskClient) -> None:
    data = {"title": "Clicked twice", "body": "Posted once.", "submit_key": "double-submit-1"}
    first = partner_client.post(NEW_THREAD, data=data)
    before = snapshot(app)
    second = partner_client.post(NEW_THREAD, data=data)
    assert snapshot(app) == before
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"].startswith(first.headers["Location"])
    page = partner_client.get(second.headers["Location"]).get_data(as_text=True)
    assert "That was already posted, so we kept the first copy." in page and "Posted once." in page


def test_a_double_submitted_reply_is_stored_once(app: Flask, partner_client: FlaskClient, thread: Made) -> None:
    data = {"body": "One reply, two clicks.", "submit_key": "double-reply-1"}
    first = partner_client.post(f"/posts/{thread.post_id}/replies", data=data)
    before = snapshot(app)
    second = partner_client.post(f"/posts/{thread.post_id}/replies", data=data)
    assert snapshot(app) == before
    assert second.status_code == 302 and second.headers["Location"] == first.headers["Location"]
    # The key belongs to its author: another member's identical key is their own submission.
    other = register(app, "Soft Willow 14", "partner")
    other_client = login(app.test_client(), other)
    assert other_client.post(f"/posts/{thread.post_id}/replies", data=data).status_code == 302
    assert count_posts(app) == 3


def test_two_racing_submits_show_the_copy_that_won(app: Flask, partner_client: FlaskClient, thread: Made,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Both submits pass the "already posted?" check; the unique key stops the second at insert."""
    from forum.rooms import actions

    data = {"body": "Racing reply", "submit_key": "racing-key-01"}
    first = partner_client.post(f"/posts/{thread.post_id}/replies", data=data)
    monkeypatch.setattr(actions, "_existing_submission", lambda *args: None)
    before = snapshot(app)
    second = partner_client.post(f"/posts/{thread.post_id}/replies", data=data)
    assert snapshot(app) == before
    assert second.status_code == 302 and second.headers["Location"] == first.headers["Location"]
    started = partner_client.post(NEW_THREAD, data={"title": "Race", "body": "Thread race", "submit_key": "race-thr-1"})
    before = snapshot(app)
    again = partner_client.post(NEW_THREAD, data={"title": "Race", "body": "Thread race", "submit_key": "race-thr-1"})
    assert snapshot(app) == before, "the second thread row must not survive its post's failed insert"
    assert again.headers["Location"].startswith(started.headers["Location"])


def test_malformed_submit_keys_are_ignored_not_trusted(app: Flask, partner_client: FlaskClient, thread: Made) -> None:
    for key in ("x" * 500, "short", "has spaces in it", "\x00\x00\x00\x00\x00\x00\x00\x00"):
        response = partner_client.post(f"/posts/{thread.post_id}/replies", data={"body": f"key {key[:3]!r}",
                                                                                  "submit_key": key})
        assert response.status_code == 302
    assert count_posts(app) == 5


def test_replies_to_posts_the_member_cannot_see_or_answer(app: Flask, partner_client: FlaskClient,
                                                          recovering: Account, partner: Account, thread: Made) -> None:
    other_audience = start_thread(app, recovering, "early-days", "Not for partners", "Recovery words.")
    refused(app, lambda: partner_client.post(f"/posts/{other_audience.post_id}/replies", data={"body": "Hi"}), 404)
    refused(app, lambda: partner_client.post(f"/threads/{other_audience.thread_id}/replies", data={"body": "Hi"}), 404)

    newcomer = register(app, "Brand New 3", "partner")
    with app.app_context():
        member = db.session.get(Member, newcomer.id)
        assert member is not None
        member.published_posts = 0
        db.session.commit()
    held = add_reply(app, newcomer, thread.post_id, "Held for review")
    refused(app, lambda: partner_client.post(f"/posts/{held}/replies", data={"body": "Hi"}), 404)

    from forum.rooms.actions import set_post_visibility

    removed = add_reply(app, partner, thread.post_id, "Something a moderator removed")
    with app.app_context():
        post = db.session.get(Post, removed)
        assert post is not None
        set_post_visibility(db.session, post, "removed")
        db.session.commit()
    refused(app, lambda: partner_client.post(f"/posts/{removed}/replies", data={"body": "Hi"}), 400,
            "That post can't be answered right now.")


def test_a_reply_lands_in_the_thread_of_what_it_answers(app: Flask, partner: Account, partner_client: FlaskClient,
                                                         thread: Made) -> None:
    """Only the parent is named; a thread id smuggled into the form changes nothing."""
    other = start_thread(app, partner, PARTNER_ROOM, "Another thread", "Elsewhere.")
    partner_client.post(f"/posts/{thread.post_id}/replies", data={"body": "Where am I?", "thread_id": other.thread_id,
                                                                  "parent_id": other.post_id})
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.body_source == "Where am I?"))
        assert post is not None and post.thread_id == thread.thread_id and post.parent_id == thread.post_id


def test_a_locked_thread_refuses_replies(app: Flask, partner_client: FlaskClient, thread: Made) -> None:
    with app.app_context():
        row = db.session.get(Thread, thread.thread_id)
        assert row is not None
        row.locked = True
        db.session.commit()
    refused(app, lambda: partner_client.post(f"/posts/{thread.post_id}/replies", data={"body": "Hi"}), 403,
            "This thread is closed to new replies.")
    page = partner_client.get(f"/threads/{thread.thread_id}").get_data(as_text=True)
    assert "This thread is closed to new replies." in page and "Reply to this thread" not in page


def test_a_muted_member_is_told_and_nothing_is_written(app: Flask, partner: Account, partner_client: FlaskClient,
                                                       thread: Made) -> None:
    with app.app_context():
        member = db.session.get(Member, partner.id)
        assert member is not None
        member.muted_until = utcnow() + timedelta(hours=1)
        db.session.commit()
    refused(app, lambda: partner_client.post(NEW_THREAD, data={"title": "T", "body": "B"}), 403, "You're muted")
    refused(app, lambda: partner_client.post(f"/posts/{thread.post_id}/replies", data={"body": "B"}), 403,
            "You're muted")


def test_a_failure_half_way_through_a_write_leaves_nothing(app: Flask, partner_client: FlaskClient,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The thread row is flushed before its opening post: a later refusal must take both back."""
    from forum.errors import ActionError
    from forum.rooms import actions

    def fail(*_args: object, **_kwargs: object) -> None:
        raise ActionError("Screening could not be recorded.", status=503, code="unavailable")

    monkeypatch.setattr(actions, "record_screening", fail)
    refused(app, lambda: partner_client.post(NEW_THREAD, data={"title": "Half", "body": "Way"}), 503,
            "Screening could not be recorded.")


def test_junk_never_makes_a_500(app: Flask, partner_client: FlaskClient, thread: Made) -> None:
    app.config["POST_RATE_LIMIT"] = "1000 per minute"  # every request below must reach the route
    junk = ["\x00" * 50, "<" * 5000, "%" * 100, "\u202e" * 10, "🌱" * 6000, "\r\n" * 9000]
    urls = [NEW_THREAD, f"/posts/{thread.post_id}/replies", f"/threads/{thread.thread_id}/replies",
            f"/posts/{thread.post_id}/edit"]
    for value in junk:
        for url in urls:
            response = partner_client.post(url, data={"title": value, "body": value, "content_warning": value,
                                                      "submit_key": value, "confirmed": value})
            assert response.status_code in (302, 400, 403, 409, 413, 422), (url, value[:10], response.status_code)

"""The room index, room pages, starting a thread, and the default rooms."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select

from forum.db import db, utcnow
from forum.models import Base
from forum.rooms.actions import DEFAULT_ROOMS
from forum.rooms.models import Room, Thread
from tests.conftest import Account
from tests.rooms.conftest import PARTNER_ROOM, add_reply, snapshot, start_thread
from tests.rooms.dom import parse

ROOT = Path(__file__).resolve().parents[2]


def room_card(body: str, name: str) -> str:
    doc = parse(body)
    (card,) = [li for li in doc.find_all("li", "room-card") if name in li.text()]
    return card.text()


def test_index_shows_thread_count_and_last_activity(app: Flask, partner: Account,
                                                     partner_client: FlaskClient) -> None:
    before = room_card(partner_client.get("/rooms").get_data(as_text=True), "Just found out")
    assert "0 threads" in before and "no activity yet" in before
    start_thread(app, partner, PARTNER_ROOM, "One", "First.")
    start_thread(app, partner, PARTNER_ROOM, "Two", "Second.")
    after = room_card(partner_client.get("/rooms").get_data(as_text=True), "Just found out")
    assert "2 threads" in after and "last activity just now" in after
    untouched = room_card(partner_client.get("/rooms").get_data(as_text=True), "Living with it")
    assert "0 threads" in untouched


def test_an_approved_reply_counts_as_the_rooms_last_activity(app: Flask, partner: Account) -> None:
    """A reply held for review and then approved moves its room's "last activity" as its thread's."""
    from forum.accounts.models import Member
    from forum.rooms.actions import set_post_visibility
    from forum.rooms.models import Post
    from tests.conftest import register

    made = start_thread(app, partner, PARTNER_ROOM, "Waiting for an answer", "Anyone?")
    newcomer = register(app, "First Steps 8", "partner")
    with app.app_context():
        member = db.session.get(Member, newcomer.id)
        assert member is not None
        member.published_posts = 0  # a new member's first replies wait for a moderator
        db.session.commit()
    held = add_reply(app, newcomer, made.post_id, "Me, a little late.")
    with app.app_context():
        post = db.session.get(Post, held)
        assert post is not None and post.status == "held"
        set_post_visibility(db.session, post, "published")
        db.session.commit()
        room = db.session.scalar(select(Room).where(Room.slug == PARTNER_ROOM))
        thread = db.session.get(Thread, made.thread_id)
        assert room is not None and thread is not None
        from forum.db import as_utc

        assert as_utc(room.last_activity_at) == as_utc(thread.last_activity_at) == as_utc(post.created_at)


def test_index_is_one_query_however_many_rooms_have_threads(app: Flask, partner: Account,
                                                            partner_client: FlaskClient) -> None:
    from tests.rooms.conftest import count_queries

    partner_client.get("/rooms")
    with count_queries(app) as empty:
        partner_client.get("/rooms")
    for slug in ("just-found-out", "living-with-it", "rebuilding-or-leaving"):
        start_thread(app, partner, slug, "Hello", "Hello there.")
    with count_queries(app) as full:
        partner_client.get("/rooms")
    assert len(full) == len(empty)


def test_room_lists_pinned_first_then_by_last_activity(app: Flask, partner: Account, other_partner: Account,
                                                       partner_client: FlaskClient) -> None:
    first = start_thread(app, partner, PARTNER_ROOM, "Oldest thread", "One.")
    start_thread(app, partner, PARTNER_ROOM, "Middle thread", "Two.")
    pinned = start_thread(app, partner, PARTNER_ROOM, "Pinned thread", "Three.")
    start_thread(app, partner, PARTNER_ROOM, "Newest thread", "Four.")
    add_reply(app, other_partner, first.post_id, "Bump: the oldest is now the most recently active.")
    with app.app_context():
        thread = db.session.get(Thread, pinned.thread_id)
        assert thread is not None
        thread.pinned = True
        thread.last_activity_at = utcnow() - timedelta(days=30)
        db.session.commit()
    doc = parse(partner_client.get(f"/rooms/{PARTNER_ROOM}").get_data(as_text=True))
    titles = [li.find("h3").text() for li in doc.find_all("li", "thread-item")]  # type: ignore[union-attr]
    assert titles == ["Pinned thread", "Oldest thread", "Newest thread", "Middle thread"]
    oldest = [li.text() for li in doc.find_all("li", "thread-item") if "Oldest thread" in li.text()][0]
    assert "1 reply" in oldest and "Started by Quiet Harbor 11" in oldest


def test_room_page_is_paginated(app: Flask, partner: Account, partner_client: FlaskClient) -> None:
    app.config["THREADS_PER_PAGE"] = 2
    for n in range(5):
        start_thread(app, partner, PARTNER_ROOM, f"Thread {n}", "Text.")
    pages = []
    for number in (1, 2, 3):
        response = partner_client.get(f"/rooms/{PARTNER_ROOM}?page={number}")
        assert response.status_code == 200
        doc = parse(response.get_data(as_text=True))
        pages.append([li.find("h3").text() for li in doc.find_all("li", "thread-item")])  # type: ignore[union-attr]
    assert pages == [["Thread 4", "Thread 3"], ["Thread 2", "Thread 1"], ["Thread 0"]]
    page2 = partner_client.get(f"/rooms/{PARTNER_ROOM}?page=2").get_data(as_text=True)
    assert 'href="?page=1" rel="prev"' in page2 and 'href="?page=3" rel="next"' in page2
    assert 'aria-current="page"' in page2
    assert partner_client.get(f"/rooms/{PARTNER_ROOM}?page=4").status_code == 404
    for junk in ("abc", "-3", "0", "9" * 40, "%00"):
        assert partner_client.get(f"/rooms/{PARTNER_ROOM}?page={junk}").status_code in (200, 404)


def test_start_a_thread(app: Flask, partner_client: FlaskClient) -> None:
    form = partner_client.get(f"/rooms/{PARTNER_ROOM}/new").get_data(as_text=True)
    assert '<label for="title">Title</label>' in form and '<label for="body">Message</label>' in form
    response = partner_client.post(f"/rooms/{PARTNER_ROOM}/threads",
                                   data={"title": "  Where do I even start?  ", "body": "Some *words*.",
                                         "submit_key": "start-thread-1"})
    assert response.status_code == 302
    page = partner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<h1>Where do I even start?</h1>" in page and "Some <em>words</em>." in page
    with app.app_context():
        room = db.session.scalar(select(Room).where(Room.slug == PARTNER_ROOM))
        assert room is not None and room.thread_count == 1


def test_title_is_1_to_150_characters_and_message_is_required(app: Flask, partner_client: FlaskClient) -> None:
    url = f"/rooms/{PARTNER_ROOM}/threads"
    before = snapshot(app)
    cases = [
        ({"title": "", "body": "Text"}, ["Title can't be empty."]),
        ({"title": "   ", "body": "Text"}, ["Title can't be empty."]),
        ({"title": "x" * 151, "body": "Text"}, ["Title can be at most 150 characters (this is 151)."]),
        ({"title": "Fine", "body": ""}, ["Message can't be empty."]),
        ({"title": "Fine", "body": " \n\t "}, ["Message can't be empty."]),
        ({}, ["Title can't be empty.", "Message can't be empty."]),
    ]
    for data, messages in cases:
        response = partner_client.post(url, data=data)
        assert response.status_code == 400, data
        body = response.get_data(as_text=True)
        for message in messages:
            assert message.replace("'", "&#39;") in body, (data, message)
        assert 'aria-invalid="true"' in body
        if data.get("title") == "x" * 151:
            assert 'value="' + "x" * 151 + '"' in body  # what was typed is kept
    assert snapshot(app) == before
    ok = partner_client.post(url, data={"title": "y" * 150, "body": "Text"})
    assert ok.status_code == 302
    single = partner_client.post(url, data={"title": "Z", "body": "Text"})
    assert single.status_code == 302


def test_posting_is_rate_limited_per_member_and_a_new_password_does_not_reset_it(
        app: Flask, partner: Account, partner_client: FlaskClient, other_partner_client: FlaskClient) -> None:
    app.config["POST_RATE_LIMIT"] = "2 per minute"
    url = f"/rooms/{PARTNER_ROOM}/threads"
    for n in range(2):
        assert partner_client.post(url, data={"title": f"Thread {n}", "body": "Text."}).status_code == 302
    changed = partner_client.post("/account/password", data={"current_password": partner.password,
                                                            "new_password": "a brand new lighthouse"})
    assert changed.status_code == 200
    limited = partner_client.post(url, data={"title": "One too many", "body": "Text."})
    assert limited.status_code == 429
    # Another member (from the same address) posts as usual.
    assert other_partner_client.post(url, data={"title": "Mine", "body": "Text."}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Thread)) == 3


def test_visitors_are_sent_to_log_in(client: FlaskClient) -> None:
    response = client.get("/rooms")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_seed_creates_default_rooms_once(tmp_path: Path) -> None:
    """`flask --app wsgi seed` twice: the default rooms exist once each."""
    url = f"sqlite:///{tmp_path / 'seed.db'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    env = {**os.environ, "DATABASE_URL": url, "HAVEN_ENV": "development", "SECRET_KEY": "seed-test",
           "HAVEN_INSTANCE_DIR": str(tmp_path)}
    outputs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "seed"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert f"created {len(DEFAULT_ROOMS)} rooms" in outputs[0]
    assert "created 0 rooms" in outputs[1]
    with engine.connect() as conn:
        slugs = list(conn.execute(select(Room.slug)).scalars())
        audiences = dict(conn.execute(select(Room.audience, func.count()).group_by(Room.audience)).all())
    engine.dispose()
    assert sorted(slugs) == sorted(slug for _, slug, _, _ in DEFAULT_ROOMS)
    assert audiences == {"partner": 4, "recovery": 4}
    for name in ("Just found out", "Living with it", "Rebuilding or leaving", "Early days",
                 "Working the steps", "Relapse and starting again"):
        assert name in [n for _, _, n, _ in DEFAULT_ROOMS]


def test_seed_in_process_is_idempotent(app: Flask) -> None:
    """The same through the app's CLI runner, on either database backend."""
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed"])
    second = runner.invoke(args=["seed"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "created 0 rooms" in first.output and "created 0 rooms" in second.output  # make_app seeded already
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Room)) == len(DEFAULT_ROOMS)

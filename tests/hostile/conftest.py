"""Hostile-input fixtures: an app with CSRF on, a small world made through the real actions,
clients of each kind holding their CSRF token, the hostile values themselves, and the
checks every answer must pass (no 5xx, no unescaped echo, nothing half-written).

Example counts are bounded for CI (derandomized, no example database); set
HAVEN_HOSTILE_EXAMPLES to run more examples per route or event locally.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import traceback
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.test import TestResponse

from forum.accounts.models import Member
from forum.chat.models import ChatMessage
from forum.db import db
from forum.moderation import actions as moderation
from forum.moderation.models import Flag, ReviewItem, WatchedWord
from forum.rooms.models import Post, Room, Thread, Visibility
from forum.text.render import render_chat, render_post
from tests.accounts.pages import inline_code
from tests.conftest import Account, make_app, register
from tests.moderation.conftest import send_chat
from tests.rooms.conftest import PARTNER_ROOM, RECOVERY_ROOM, add_reply, start_thread

EXAMPLES = int(os.environ.get("HAVEN_HOSTILE_EXAMPLES", "0") or 0)


def bounded(default: int) -> settings:
    """Hypothesis settings for one route or event: few examples, same ones on every run."""
    return settings(max_examples=EXAMPLES or default, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# Hostile values ------------------------------------------------------------------------------

# Markup that must never come back unescaped, in a page or anywhere HTML is built.
MARKERS = (
    "<script>alert('hx1')</script>",
    '"><img src=x onerror=alert("hx2")>',
    "'><svg onload=alert('hx3')>",
    '<a href="javascript:alert(4)">hx4</a>',
    "</textarea><script>alert('hx5')</script>",
    "</title><iframe src=//evil.example/hx6></iframe>",
    '<div style="background:url(hx7)" onmouseover="alert(7)">',
)
ODD = (
    "", " ", "\x00", "a\x00b", "\u202eevil", "\ufeff", "\u200b", "\r\n\r\n", "\t", "%00", "%ff", "&amp;",
    "0", "-1", "1", "1.5", "1e9", "NaN", "99999999999999999999", str(2**31), str(2**63), "true", "null", "[]",
    "{}", "yes", "no", "keep", "remove", "post", "chat", "partner", "recovery", "hold", "refuse", "flag",
    "replace", "spam", "other", "risk", "24", "720", "/rooms", "//evil.example", "/\\evil.example",
    "https://evil.example/", "javascript:alert(1)", "../../etc/passwd", "{{ 7*7 }}", "{% raw %}", "${7*7}",
    "' OR '1'='1", "\"; DROP TABLE post; --", "e\u0301" * 50, "🌱" * 40, "\U0001f600\u200d\U0001f600",
)
HUGE = st.builds(lambda unit, count: unit * count, st.sampled_from(["x", "é", "🌱", "<", "\n", "&", "a "]),
                 st.sampled_from([1_001, 20_001, 70_000, 300_000]))
TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=160)
VALUE = st.one_of(st.sampled_from(MARKERS), st.sampled_from(ODD), TEXT, HUGE)
# The markers inside ordinary text (where a sanitizer or a template might let part through).
WRAPPED = st.builds(lambda before, marker, after: f"{before}{marker}{after}", TEXT, st.sampled_from(MARKERS), TEXT)
ANY_VALUE = st.one_of(st.sampled_from(MARKERS), WRAPPED, VALUE)


def junk(leaf: st.SearchStrategy[Any] | None = None) -> st.SearchStrategy[Any]:
    """JSON-shaped junk: any nesting of null, booleans, huge integers, floats and hostile text."""
    leaves = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                       st.floats(allow_nan=True, allow_infinity=True), leaf or ANY_VALUE)
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


# What a response must never do ---------------------------------------------------------------

def assert_no_echo(body: str, mimetype: str | None, where: str) -> None:
    """No marker comes back as markup, in any response a browser would render as a page."""
    if mimetype in ("application/json", "image/svg+xml", "text/css", "text/javascript"):
        # Not rendered as a page (and served with nosniff): JSON may carry a member's own text.
        return
    for marker in MARKERS:
        assert marker not in body, f"{where}: unescaped {marker!r} in the response"
    inline = [code for code in inline_code(body) if "hx" in code or "alert" in code or "evil" in code]
    assert inline == [], f"{where}: injected code in the page: {inline}"
    lowered = body.lower()
    for tag in ("<script>alert", "<img src=x", "<svg onload", "<iframe src=//evil"):
        assert tag not in lowered, f"{where}: {tag!r} in the response"


class Tracebacks(logging.Handler):
    """Keeps the traceback of the app's last unhandled error, for the failure message."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.last = "".join(traceback.format_exception(*record.exc_info))


TRACEBACKS = Tracebacks()


def assert_sane(response: TestResponse, where: str) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code < 500, f"{where}: {response.status_code}\n{TRACEBACKS.last or body[:600]}"
    assert "Traceback" not in body, where
    assert_no_echo(body, response.mimetype, where)
    return body


# Nothing half-written ------------------------------------------------------------------------

def assert_consistent(app: Flask) -> None:
    """Every stored row is whole and agrees with the rest.

    A thread has exactly one opening post; a reply sits in its parent's thread one level
    deeper with the path built from the parent's; the counters match the rows (see
    Thread.post_count for the one that counts a deleted opening post); stored
    HTML is the render of the stored source (empty for a deleted post); queue items and
    flags point at text that exists.
    """
    with app.app_context():
        s = db.session
        threads = {t.id: t for t in s.scalars(select(Thread))}
        posts = {p.id: p for p in s.scalars(select(Post))}
        by_thread: dict[int, list[Post]] = defaultdict(list)
        for post in posts.values():
            assert post.thread_id in threads, f"post {post.id} without its thread"
            by_thread[post.thread_id].append(post)
            if post.parent_id is None:
                assert post.depth == 0 and post.sort_key == f"{post.id:010d}", f"post {post.id}"
            else:
                parent = posts.get(post.parent_id)
                assert parent is not None and parent.thread_id == post.thread_id, f"post {post.id}: parent"
                assert post.depth == parent.depth + 1, f"post {post.id}: depth"
                assert post.sort_key == f"{parent.sort_key}/{post.id:010d}", f"post {post.id}: sort key"
            if post.status == Visibility.DELETED:
                assert post.body_source == "" and post.body_html == "", f"deleted post {post.id} kept text"
            else:
                assert post.body_source, f"post {post.id} without text"
                assert post.body_html == render_post(post.body_source), f"post {post.id}: html is not its render"
        for thread in threads.values():
            opening = [p for p in by_thread[thread.id] if p.parent_id is None]
            assert len(opening) == 1, f"thread {thread.id} has {len(opening)} opening posts"
            assert thread.title.strip(), f"thread {thread.id} without a title"
            published = sum(p.status == Visibility.PUBLISHED for p in by_thread[thread.id])
            # An opening post its author deleted still counts: the thread stands on it (Thread.post_count).
            published += opening[0].status == Visibility.DELETED and thread.status == Visibility.PUBLISHED
            assert thread.post_count == published, f"thread {thread.id}: post_count {thread.post_count} != {published}"
        counts = Counter(t.room_id for t in threads.values() if t.status == Visibility.PUBLISHED)
        for room in s.scalars(select(Room)):
            assert room.thread_count == counts[room.id], f"room {room.slug}: thread_count"
        messages = {m.id: m for m in s.scalars(select(ChatMessage))}
        for message in messages.values():
            assert message.body and message.body_html == render_chat(message.body), f"chat {message.id}"
        for row in [*s.scalars(select(ReviewItem)), *s.scalars(select(Flag))]:
            pool: dict[int, Any] = posts if row.item_type == "post" else messages
            assert row.item_id in pool, f"{type(row).__name__} {row.id} points at nothing"
        for member in s.scalars(select(Member)):
            assert member.pseudonym and member.pseudonym_key and member.password_hash, f"member {member.id}"


# The world and the clients -------------------------------------------------------------------

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_names = itertools.count(1)


@dataclass
class Caller:
    """A client of one kind, with the CSRF token of its session."""

    kind: str
    client: FlaskClient
    token: str
    account: Account | None = None


def token_of(client: FlaskClient, path: str) -> str:
    match = _TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def log_in(app: Flask, account: Account) -> FlaskClient:
    """Log in through the form with its CSRF token (CSRF is on in these tests)."""
    client = app.test_client()
    token = token_of(client, "/login")
    response = client.post("/login", data={"pseudonym": account.pseudonym, "password": account.password,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def caller(app: Flask, kind: str, account: Account | None) -> Caller:
    if account is None:
        client = app.test_client()
        return Caller(kind, client, token_of(client, "/login"))
    client = log_in(app, account)
    return Caller(kind, client, token_of(client, "/account"), account)


@dataclass
class World:
    """What the hostile requests aim at: real ids of each kind, and who is who."""

    app: Flask
    accounts: dict[str, Account]
    ids: dict[str, list[Any]] = field(default_factory=dict)  # real values, by URL argument name
    callers: dict[str, Caller] = field(default_factory=dict)

    def throwaway(self, kind: str) -> Caller:
        """A caller of ``kind`` on a session of its own, for requests that end or start sessions."""
        if kind == "visitor":
            return caller(self.app, kind, None)
        path = "recovery" if kind == "recovery" else "partner"
        role = {"moderator": "moderator", "admin": "admin"}.get(kind, "member")
        account = register(self.app, f"Passing Cloud {next(_names)}", path, role=role)
        return caller(self.app, kind, account)


KINDS = ("visitor", "partner", "recovery", "moderator", "admin")


@pytest.fixture
def hostile_app(database_url: str) -> Iterator[Flask]:
    app = make_app(database_url, POST_RATE_LIMIT="100000 per minute", LOGIN_RATE_LIMIT="100000 per minute",
                   SIGNUP_RATE_LIMIT="100000 per minute", RECOVERY_RATE_LIMIT="100000 per minute",
                   PSEUDONYM_CHANGE_RATE_LIMIT="100000 per minute", CHAT_RATE_LIMIT="100000 per minute")
    app.logger.addHandler(TRACEBACKS)
    yield app
    app.logger.removeHandler(TRACEBACKS)
    with app.app_context():
        assert db.engine is not None
        db.engine.dispose()


@pytest.fixture
def world(hostile_app: Flask) -> World:
    """Two audiences' threads and chat, queue items, a watched word, and members to act on.
    Members are logged in first; then CSRF is switched on, as in production."""
    app = hostile_app
    accounts = {
        "partner": register(app, "Quiet Harbor 11", "partner"),
        "other": register(app, "Gentle Cedar 12", "partner"),
        "recovery": register(app, "Steady River 21", "recovery"),
        "moderator": register(app, "Calm Lantern 31", "recovery", role="moderator"),
        "admin": register(app, "Wise Willow 41", "partner", role="admin"),
        "target": register(app, "Soft Rain 61", "partner"),
        "staff_target": register(app, "Kind Meadow 52", "partner", role="moderator"),
    }
    partner_thread = start_thread(app, accounts["partner"], PARTNER_ROOM, "The night I found out",
                                  "It was the worst night of my life.")
    recovery_thread = start_thread(app, accounts["recovery"], RECOVERY_ROOM, "Day one again", "Starting over.")
    reply = add_reply(app, accounts["other"], partner_thread.post_id, "I remember that night too.")
    own_reply = add_reply(app, accounts["partner"], reply, "Thank you, it helps.")
    chats = [send_chat(app, accounts["other"], "Is anyone around tonight?"),
             send_chat(app, accounts["recovery"], "Checking in, day two.", slug=RECOVERY_ROOM)]
    with app.app_context():
        s = db.session
        flagger = s.get_one(Member, accounts["target"].id)
        target = moderation.access_flag_target(s, flagger, "post", reply)
        moderation.do_flag(s, flagger, target, reason="judgment")
        word = WatchedWord(phrase="sulky heron", normalized="sulky heron", action="hold", label="watched")
        s.add(word)
        s.commit()
        items = list(s.scalars(select(ReviewItem.id)))
        rooms = list(s.scalars(select(Room.slug)))
        word_id = word.id
    ids = {
        "thread_id": [partner_thread.thread_id, recovery_thread.thread_id],
        "post_id": [partner_thread.post_id, reply, own_reply, recovery_thread.post_id],
        "message_id": chats,
        "item_id": items,
        "member_id": [accounts["target"].id, accounts["staff_target"].id],
        "word_id": [word_id],
        "slug": rooms,
    }
    w = World(app, accounts, ids)
    w.callers = {kind: caller(app, kind, accounts.get(kind)) for kind in KINDS}
    app.config["WTF_CSRF_ENABLED"] = True
    # Tokens fetched while CSRF was off are the session's own tokens all the same.
    return w

"""The authorization matrix: every route and every socket event, answered for each kind of caller.

``ROUTES`` and ``EVENTS`` are explicit tables: one row per (method, endpoint) of
``app.url_map`` and per ``on_*`` handler of the chat namespace, one column per role,
each cell the answer Haven is designed to give. A route or event added later without
a row fails ``test_the_tables_cover_every_route_and_event``, so nobody can add one
without deciding who may use it.

The roles, in column order:

* visitor: not logged in.
* partner: a member on the partner path, author of the posts the rows point at.
* recovery: a member in recovery; every target is in a partner room, so the audience
  wall answers 404, exactly as for something that does not exist.
* muted: a partner muted by a moderator: reads everything, posts and chats nothing.
* banned: a partner logged in, then banned by a moderator: the session is gone, so
  every page answers as for a visitor, and logging in again is refused.
* moderator: second factor entered this session (the app runs with
  REQUIRE_MODERATOR_TOTP on, as in production).
* no_2fa: a moderator in recovery who has not set up a second factor: every moderation
  page sends them to set it up, no moderation event reaches their socket, and the
  partner rooms answer 404 as for any member in recovery (a moderator's password alone
  opens only their own path's rooms).
* admin: a verified admin, the only one who manages the moderator role.

Every target is a partner-room object or a member, made through the real actions.
A refused write (404, 403 or a visitor's redirect to log in) is also checked to
have written nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from forum.accounts.models import Member
from forum.chat.events import ChatNamespace
from forum.chat.models import LiveSocket
from forum.db import db, utcnow
from forum.extensions import socketio
from forum.moderation import actions as moderation
from forum.moderation.models import ReviewItem, WatchedWord
from forum.rooms.models import Room
from tests.conftest import Account, login, make_app, register
from tests.moderation.conftest import send_chat
from tests.rooms.conftest import PARTNER_ROOM, add_reply, snapshot, start_thread

ROLES = ("visitor", "partner", "recovery", "muted", "banned", "moderator", "no_2fa", "admin")
MODERATOR_ROLES = {"moderator", "no_2fa", "admin"}


# Answers ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Redirect:
    """A 302 to a path starting with ``path``; with ``says``, the page it leads to says that."""

    path: str
    says: str | None = None


Answer = int | Redirect

LOGIN = Redirect("/login")
HOME = Redirect("/rooms")  # a logged-in member asking for the landing, log-in or sign-up page
ENROL = Redirect("/account/two-factor")  # a moderator without a second factor, on any moderation page
VERIFY = Redirect("/account/two-factor/verify")
THREAD = Redirect("/threads/")
POST = Redirect("/posts/")
ACCOUNT = Redirect("/account")
CHAT = Redirect(f"/rooms/{PARTNER_ROOM}/chat")
OUT = Redirect("/")


def to_queue(says: str) -> Redirect:
    return Redirect("/moderation", says)


# The world every row points into ------------------------------------------------------------

@dataclass
class World:
    app: Flask
    accounts: dict[str, Account]  # by role (visitor: none), plus the extra members below
    room_id: int = 0
    thread_id: int = 0
    opening_id: int = 0
    reply_id: int = 0  # by another partner
    deletable_id: int = 0  # the partner's own reply, for the delete rows
    chat_id: int = 0  # by another partner
    items: dict[str, int] = field(default_factory=dict)  # review item per moderation action
    members: dict[str, int] = field(default_factory=dict)  # targets of the moderators' member actions
    word_id: int = 0

    def account(self, role: str) -> Account | None:
        return self.accounts.get(role)


Values = Callable[[World], dict[str, Any]]
Data = Callable[[World, Account | None], dict[str, Any]]


def no_values(_w: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Row:
    answers: tuple[Answer, ...]  # in ROLES order
    values: Values = no_values  # the URL's arguments
    query: str = ""
    data: Data | None = None
    fresh: bool = False  # ends or starts a session: run on a client of its own


def room(w: World) -> dict[str, Any]:
    return {"slug": PARTNER_ROOM}


def thread(w: World) -> dict[str, Any]:
    return {"thread_id": w.thread_id}


def opening(w: World) -> dict[str, Any]:
    return {"post_id": w.opening_id}


def reply(w: World) -> dict[str, Any]:
    return {"post_id": w.reply_id}


def deletable(w: World) -> dict[str, Any]:
    return {"post_id": w.deletable_id}


def chat_line(w: World) -> dict[str, Any]:
    return {"message_id": w.chat_id}


def item(action: str) -> Values:
    return lambda w: {"item_id": w.items[action]}


def member(action: str) -> Values:
    return lambda w: {"member_id": w.members[action]}


def form(**fields: Any) -> Data:
    return lambda _w, _account: dict(fields)


def own_password(**fields: Any) -> Data:
    return lambda _w, account: {"password": account.password if account else "no account", **fields}


def own_login(w: World, account: Account | None) -> dict[str, Any]:
    """A role's own credentials; a visitor uses the partner's (logging in from a fresh browser)."""
    account = account or w.accounts["partner"]
    return {"pseudonym": account.pseudonym, "password": account.password}


WRONG_CODE = form(code="000000")
NEW_MEMBER = form(pseudonym="Bright Fern 88", password="a long and careful passphrase 9", path="partner",
                  guidelines="yes")

# fmt: off
ROUTES: dict[tuple[str, str], Row] = {
    #                                         visitor partner recovery muted  banned  moderator no_2fa  admin
    # Public pages
    ("GET", "main.index"):               Row((200,    HOME,   HOME,    HOME,  200,    HOME,     HOME,   HOME)),
    ("GET", "main.guidelines"):          Row((200,    200,    200,     200,   200,    200,      200,    200)),
    ("GET", "main.safe_browsing"):       Row((200,    200,    200,     200,   200,    200,      200,    200)),
    ("GET", "main.crisis"):              Row((200,    200,    200,     200,   200,    200,      200,    200)),
    ("GET", "main.healthz"):             Row((200,    200,    200,     200,   200,    200,      200,    200)),
    ("GET", "static"):                   Row((200,    200,    200,     200,   200,    200,      200,    200),
                                             lambda w: {"filename": "css/haven.css"}),
    # Accounts
    ("GET", "accounts.signup"):          Row((200,    HOME,   HOME,    HOME,  200,    HOME,     HOME,   HOME)),
    ("POST", "accounts.signup"):         Row((200,    HOME,   HOME,    HOME,  200,    HOME,     HOME,   HOME),
                                             data=NEW_MEMBER, fresh=True),
    ("GET", "accounts.suggest"):         Row((200,    200,    200,     200,   200,    200,      200,    200)),
    ("GET", "accounts.login"):           Row((200,    HOME,   HOME,    HOME,  200,    HOME,     HOME,   HOME)),
    # A banned member's own, correct password: refused, and said so.
    ("POST", "accounts.login"):          Row((HOME,   HOME,   HOME,    HOME,  403,    HOME,     HOME,   HOME),
                                             data=own_login, fresh=True),
    ("POST", "accounts.logout"):         Row((OUT,    OUT,    OUT,     OUT,   OUT,    OUT,      OUT,    OUT),
                                             fresh=True),
    ("GET", "accounts.recover"):         Row((200,    200,    200,     200,   200,    200,      200,    200)),
    ("POST", "accounts.recover"):        Row((401,    401,    401,     401,   401,    401,      401,    401),
                                             data=form(pseudonym="Quiet Harbor 11", recovery_code="wrong-code",
                                                       new_password="another careful passphrase 5"), fresh=True),
    ("GET", "accounts.account"):         Row((LOGIN,  200,    200,     200,   LOGIN,  200,      200,    200)),
    ("POST", "accounts.change_password"): Row((LOGIN, 400,    400,     400,   LOGIN,  400,      400,    400),
                                             data=form(current_password="not my password",
                                                       new_password="another careful passphrase 5")),
    # Safety: the member's own account
    ("GET", "safety.export"):            Row((LOGIN,  200,    200,     200,   LOGIN,  200,      200,    200)),
    ("POST", "safety.export"):           Row((LOGIN,  200,    200,     200,   LOGIN,  200,      200,    200),
                                             data=own_password()),
    ("GET", "safety.delete_account"):    Row((LOGIN,  200,    200,     200,   LOGIN,  200,      200,    200)),
    ("POST", "safety.delete_account"):   Row((LOGIN,  400,    400,     400,   LOGIN,  400,      400,    400),
                                             data=form(posts="keep", password="not my password")),
    ("GET", "safety.change_pseudonym"):  Row((LOGIN,  200,    200,     200,   LOGIN,  200,      200,    200)),
    ("POST", "safety.change_pseudonym"): Row((LOGIN,  400,    400,     400,   LOGIN,  400,      400,    400),
                                             data=form(pseudonym="x")),
    ("POST", "safety.unmute"):           Row((LOGIN,  ACCOUNT, ACCOUNT, ACCOUNT, LOGIN, ACCOUNT, ACCOUNT, ACCOUNT),
                                             member("chat_author")),
    ("POST", "safety.quick_exit"):       Row((LOGIN,  204,    204,     204,   LOGIN,  204,      204,    204),
                                             fresh=True),
    # Safety: muting another member (a private choice, open to everyone who can see them)
    ("GET", "safety.confirm_mute_author"): Row((LOGIN, 200,   404,     200,   LOGIN,  200,      404,    200),
                                             reply),
    ("POST", "safety.mute_author"):      Row((LOGIN,  POST,   404,     POST,  LOGIN,  POST,     404,    POST),
                                             reply),
    ("POST", "safety.mute_chat_author"): Row((LOGIN,  ACCOUNT, 404,    ACCOUNT, LOGIN, ACCOUNT,  404,    ACCOUNT),
                                             chat_line),
    # Safety: moderators' content warnings and the second factor
    ("GET", "safety.post_warning"):      Row((LOGIN,  404,    404,     404,   LOGIN,  200,      ENROL,  200),
                                             opening),
    ("POST", "safety.post_warning"):     Row((LOGIN,  404,    404,     404,   LOGIN,  POST,     ENROL,  POST),
                                             opening, data=form(content_warning="Loss")),
    ("GET", "safety.two_factor"):        Row((LOGIN,  404,    404,     404,   LOGIN,  200,      200,    200)),
    ("POST", "safety.two_factor"):       Row((LOGIN,  404,    404,     404,   LOGIN,  200,      400,    200),
                                             data=WRONG_CODE),
    ("GET", "safety.two_factor_qr"):     Row((LOGIN,  404,    404,     404,   LOGIN,  404,      200,    404)),
    ("GET", "safety.verify_code"):       Row((LOGIN,  404,    404,     404,   LOGIN,  200,      ENROL,  200)),
    ("POST", "safety.verify_code"):      Row((LOGIN,  404,    404,     404,   LOGIN,  400,      ENROL,  400),
                                             data=WRONG_CODE),
    # Rooms, threads and posts (all targets in a partner room)
    ("GET", "rooms.index"):              Row((LOGIN,  200,    200,     200,   LOGIN,  200,      200,    200)),
    ("GET", "rooms.room"):               Row((LOGIN,  200,    404,     200,   LOGIN,  200,      404,    200), room),
    ("GET", "rooms.new_thread"):         Row((LOGIN,  200,    404,     200,   LOGIN,  200,      404,    200), room),
    ("POST", "rooms.create_thread"):     Row((LOGIN,  THREAD, 404,     403,   LOGIN,  THREAD,   404,    THREAD),
                                             room, data=form(title="A new evening", body="Thank you for listening.")),
    ("GET", "rooms.thread"):             Row((LOGIN,  200,    404,     200,   LOGIN,  200,      404,    200), thread),
    ("POST", "rooms.reply_to_thread"):   Row((LOGIN,  THREAD, 404,     403,   LOGIN,  THREAD,   404,    THREAD),
                                             thread, data=form(body="I hear you, and I'm here.")),
    ("GET", "rooms.post"):               Row((LOGIN,  200,    404,     200,   LOGIN,  200,      404,    200), opening),
    ("GET", "rooms.reply_form"):         Row((LOGIN,  200,    404,     200,   LOGIN,  200,      404,    200), opening),
    ("POST", "rooms.reply"):             Row((LOGIN,  THREAD, 404,     403,   LOGIN,  THREAD,   404,    THREAD),
                                             opening, data=form(body="Same here, thank you for writing.")),
    # Only the author rewrites or deletes; moderators read but do not rewrite members' words.
    ("GET", "rooms.edit"):               Row((LOGIN,  200,    404,     403,   LOGIN,  403,      404,    403), opening),
    ("POST", "rooms.edit"):              Row((LOGIN,  THREAD, 404,     403,   LOGIN,  403,      404,    403),
                                             opening, data=form(body="Edited: it was the worst night of my life.")),
    ("GET", "rooms.delete_form"):        Row((LOGIN,  200,    404,     403,   LOGIN,  403,      404,    403), deletable),
    ("POST", "rooms.delete"):            Row((LOGIN,  THREAD, 404,     403,   LOGIN,  403,      404,    403), deletable),
    # Chat over HTTP
    ("GET", "chat.page"):                Row((LOGIN,  200,    404,     200,   LOGIN,  200,      404,    200), room),
    ("POST", "chat.send"):               Row((LOGIN,  CHAT,   404,     403,   LOGIN,  CHAT,     404,    CHAT),
                                             room, data=form(body="Hello everyone, I'm here tonight.")),
    # Members' side of moderation
    ("GET", "moderation.flag_form"):     Row((LOGIN,  200,    404,     200,   LOGIN,  200,      404,    200),
                                             query="item_type=post&item_id={reply_id}"),
    ("POST", "moderation.flag"):         Row((LOGIN,  POST,   404,     POST,  LOGIN,  POST,     404,    POST),
                                             data=lambda w, _a: {"item_type": "post", "item_id": str(w.reply_id),
                                                                 "reason": "spam"}),
    ("GET", "moderation.notice_list"):   Row((LOGIN,  200,    200,     200,   LOGIN,  200,      200,    200)),
    # The moderators' pages: 404 to everyone else, as for a page that does not exist
    ("GET", "moderation.staff.queue"):   Row((404,    404,    404,     404,   404,    200,      ENROL,  200)),
    ("GET", "moderation.staff.log"):     Row((404,    404,    404,     404,   404,    200,      ENROL,  200)),
    ("POST", "moderation.staff.claim"):  Row((404,    404,    404,     404,   404,    to_queue("You're working on this item"),
                                                                                            ENROL,  to_queue("You're working on this item")),
                                             item("claim")),
    ("POST", "moderation.staff.release"): Row((404,   404,    404,     404,   404,    to_queue("back in the queue"),
                                                                                            ENROL,  to_queue("back in the queue")),
                                             item("release")),
    ("POST", "moderation.staff.approve"): Row((404,   404,    404,     404,   404,    to_queue("Approved."),
                                                                                            ENROL,  to_queue("Approved.")),
                                             item("approve")),
    ("POST", "moderation.staff.remove"): Row((404,    404,    404,     404,   404,    to_queue("Removed."),
                                                                                            ENROL,  to_queue("Removed.")),
                                             item("remove"), data=form(reason="judgment")),
    ("POST", "moderation.staff.redact"): Row((404,    404,    404,     404,   404,    to_queue("Edited and published."),
                                                                                            ENROL,  to_queue("Edited and published.")),
                                             item("redact"), data=form(text="Someone I know said something hurtful.")),
    ("POST", "moderation.staff.warn"):   Row((404,    404,    404,     404,   404,    to_queue("Warning sent"),
                                                                                            ENROL,  to_queue("Warning sent")),
                                             member("warn"), data=form(note="Please keep to the guidelines.")),
    ("POST", "moderation.staff.mute"):   Row((404,    404,    404,     404,   404,    to_queue("Muted."),
                                                                                            ENROL,  to_queue("Muted.")),
                                             member("mute"), data=form(hours="24")),
    ("POST", "moderation.staff.unmute"): Row((404,    404,    404,     404,   404,    to_queue("Unmuted."),
                                                                                            ENROL,  to_queue("Unmuted.")),
                                             member("unmute")),
    ("POST", "moderation.staff.ban"):    Row((404,    404,    404,     404,   404,    to_queue("Banned."),
                                                                                            ENROL,  to_queue("Banned.")),
                                             member("ban"), data=form(note="Repeated harassment.")),
    ("GET", "moderation.staff.watched_words"): Row((404, 404, 404,     404,   404,    200,      ENROL,  200)),
    ("POST", "moderation.staff.watched_words"): Row((404, 404, 404,    404,   404,    Redirect("/moderation/words", "Added"),
                                                                                            ENROL,  Redirect("/moderation/words", "Added")),
                                             data=form(phrase="grumpy walrus", action="hold")),
    ("POST", "moderation.staff.delete_word"): Row((404, 404,  404,     404,   404,    Redirect("/moderation/words", "Removed"),
                                                                                            ENROL,  Redirect("/moderation/words", "Removed")),
                                             lambda w: {"word_id": w.word_id}),
    # Only admins manage the moderator role (404 to moderators, as for a page that does not exist)
    ("GET", "moderation.staff.moderators"): Row((404, 404,    404,     404,   404,    404,      ENROL,  200)),
    ("POST", "moderation.staff.grant"):  Row((404,    404,    404,     404,   404,    404,      ENROL,
                                              Redirect("/moderation/moderators", "is now a moderator")),
                                             data=lambda w, _a: {"pseudonym": "Soft Rain 70"}),
    ("POST", "moderation.staff.revoke"): Row((404,    404,    404,     404,   404,    404,      ENROL,
                                              Redirect("/moderation/moderators", "is no longer a moderator")),
                                             member("revoke")),
}

# Socket events. "refused": the connection itself is refused. "member": connected, in the member's
# own channel only. "moderators": connected and hearing the moderation queue. "closed": the event's
# socket is gone (the connection was closed when the moderator banned its member). Otherwise the
# acknowledgement's code ("ok" for {"ok": true}).
EVENTS: dict[str, tuple[str, ...]] = {
    #               visitor    partner  recovery     muted    banned    moderator     no_2fa    admin
    "connect":      ("refused", "member", "member",    "member", "refused", "moderators", "member", "moderators"),
    "disconnect":   ("refused", "closed", "closed",    "closed", "closed",  "closed",     "closed", "closed"),
    "join":         ("refused", "ok",     "not_found", "ok",     "closed",  "ok",         "not_found", "ok"),
    "leave":        ("refused", "ok",     "not_found", "ok",     "closed",  "ok",         "not_found", "ok"),
    "send":         ("refused", "ok",     "not_found", "muted",  "closed",  "ok",         "not_found", "ok"),
    "history":      ("refused", "ok",     "not_found", "ok",     "closed",  "ok",         "not_found", "ok"),
    "since":        ("refused", "ok",     "not_found", "ok",     "closed",  "ok",         "not_found", "ok"),
    "watch_thread": ("refused", "ok",     "not_found", "ok",     "closed",  "ok",         "not_found", "ok"),
}
# fmt: on


def event_payload(event: str, w: World) -> dict[str, Any]:
    return {"join": {"room_id": w.room_id}, "leave": {"room_id": w.room_id},
            "send": {"room_id": w.room_id, "body": "Hello from the matrix."},
            "history": {"room_id": w.room_id, "before_id": 2**31 - 1},
            "since": {"room_id": w.room_id, "after_seq": 1},
            "watch_thread": {"thread_id": w.thread_id}}[event]


# Building the world and the role clients ------------------------------------------------------

@pytest.fixture
def matrix_app(database_url: str) -> Iterator[Flask]:
    """Production's second-factor rule; limits high enough that none of them answers first."""
    app = make_app(database_url, REQUIRE_MODERATOR_TOTP=True, POST_RATE_LIMIT="10000 per minute",
                   LOGIN_RATE_LIMIT="10000 per minute", SIGNUP_RATE_LIMIT="10000 per minute",
                   RECOVERY_RATE_LIMIT="10000 per minute")
    yield app
    with app.app_context():
        assert db.engine is not None
        db.engine.dispose()


def _update(app: Flask, member_id: int, **values: Any) -> None:
    with app.app_context():
        row = db.session.get_one(Member, member_id)
        for key, value in values.items():
            setattr(row, key, value)
        db.session.commit()


TOTP_SECRET = pyotp.random_base32()


def enrol(app: Flask, account: Account) -> None:
    """A second factor already set up (as if enrolled on an earlier day)."""
    _update(app, account.id, totp_secret=TOTP_SECRET, totp_confirmed_at=utcnow())


def verified_client(app: Flask, account: Account) -> FlaskClient:
    """Log in and enter the current code through the verify form, as a moderator does."""
    client = login(app.test_client(), account)
    response = client.post("/account/two-factor/verify", data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert response.status_code == 302 and response.headers["Location"] == "/moderation", response.status_code
    return client


def build_world(app: Flask, role: str) -> World:
    accounts = {
        "partner": register(app, "Quiet Harbor 11", "partner"),
        "recovery": register(app, "Steady River 21", "recovery"),
        "muted": register(app, "Soft Rain 61", "partner"),
        "banned": register(app, "Soft Rain 62", "partner"),
        "moderator": register(app, "Calm Lantern 31", "recovery", role="moderator"),
        "no_2fa": register(app, "Kind Meadow 51", "recovery", role="moderator"),
        "admin": register(app, "Wise Willow 41", "partner", role="admin"),
        "other": register(app, "Gentle Cedar 12", "partner"),
    }
    enrol(app, accounts["moderator"])
    enrol(app, accounts["admin"])
    w = World(app, accounts)
    made = start_thread(app, accounts["partner"], PARTNER_ROOM, "The night I found out",
                        "It was the worst night of my life.")
    w.thread_id, w.opening_id = made.thread_id, made.post_id
    w.reply_id = add_reply(app, accounts["other"], made.post_id, "I remember that night too.")
    w.deletable_id = add_reply(app, accounts["partner"], w.reply_id, "Thank you, it helps to hear.")
    w.chat_id = send_chat(app, accounts["other"], "Is anyone around tonight?")
    for name in ("chat_author", "warn", "mute", "unmute", "ban"):
        w.members[name] = accounts["other"].id if name == "chat_author" else register(
            app, f"Target {name.title()} 9", "partner").id
    w.members["revoke"] = register(app, "Kind Meadow 52", "partner", role="moderator").id
    register(app, "Soft Rain 70", "partner")  # the admin's grant row makes them a moderator
    acting = accounts[role] if role in ("moderator", "admin") else accounts["moderator"]
    with app.app_context():
        session = db.session
        w.room_id = session.scalars(select(Room.id).where(Room.slug == PARTNER_ROOM)).one()
        flagger = session.get_one(Member, register(app, "Soft Rain 63", "partner").id)
        for name in ("claim", "release", "approve", "remove", "redact"):
            post_id = add_reply_in(session, accounts["other"].id, made.post_id, f"A reply to review ({name}).")
            target = moderation.access_flag_target(session, flagger, "post", post_id)
            moderation.do_flag(session, flagger, target, reason="judgment")
            w.items[name] = session.scalars(select(ReviewItem.id).where(ReviewItem.item_id == post_id)).one()
        moderator = session.get_one(Member, acting.id)
        moderation.do_claim(session, moderator, session.get_one(ReviewItem, w.items["release"]))
        moderation.do_mute(session, moderator, session.get_one(Member, w.members["unmute"]), hours="24")
        moderation.do_mute(session, moderator, session.get_one(Member, accounts["muted"].id), hours="24")
        word = WatchedWord(phrase="sulky heron", normalized="sulky heron", action="hold", label="watched")
        session.add(word)
        session.commit()
        w.word_id = word.id
    return w


def add_reply_in(session: Any, author_id: int, parent_id: int, body: str) -> int:
    from forum.rooms import actions
    from forum.rooms.models import Post

    post, _ = actions.do_reply(session, session.get_one(Member, author_id), session.get_one(Post, parent_id),
                               body=body)
    session.flush()
    return post.id


def ban(w: World) -> None:
    """The moderator bans the "banned" role's member, through the real action."""
    with w.app.app_context():
        moderator = db.session.get_one(Member, w.accounts["moderator"].id)
        moderation.do_ban(db.session, moderator, db.session.get_one(Member, w.accounts["banned"].id),
                          reason="Repeated harassment.")
        db.session.commit()


def client_for(w: World, role: str) -> FlaskClient:
    """A client of ``role``: logged in (and past the second factor for verified moderators)."""
    if role == "visitor":
        return w.app.test_client()
    account = w.accounts[role]
    if role in ("moderator", "admin"):
        return verified_client(w.app, account)
    return login(w.app.test_client(), account)


def fresh_client_for(w: World, role: str) -> FlaskClient:
    """For rows that end or start a session: the same kind of caller, on a client of its own."""
    if role in ("visitor", "banned"):
        return w.app.test_client()  # a banned member's browser holds no session any more
    return login(w.app.test_client(), w.accounts[role])


# The checks --------------------------------------------------------------------------------

def route_keys(app: Flask) -> set[tuple[str, str]]:
    return {(method, rule.endpoint) for rule in app.url_map.iter_rules()
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}


def event_names() -> set[str]:
    return {name.removeprefix("on_") for name in dir(ChatNamespace) if name.startswith("on_")
            and callable(getattr(ChatNamespace, name))}


def test_the_tables_cover_every_route_and_event(matrix_app: Flask) -> None:
    routes = route_keys(matrix_app)
    assert len(routes) >= 60
    assert sorted(routes - set(ROUTES)) == [], "routes without a row in ROUTES: decide who may use them"
    assert sorted(set(ROUTES) - routes) == [], "rows in ROUTES for routes that no longer exist"
    assert event_names() == set(EVENTS), "socket events and EVENTS rows differ"
    for key, row in ROUTES.items():
        assert len(row.answers) == len(ROLES), key
    for name, answers in EVENTS.items():
        assert len(answers) == len(ROLES), name


def url_for_row(w: World, method: str, endpoint: str, row: Row) -> str:
    with w.app.test_request_context():
        url = w.app.url_for(endpoint, **row.values(w))
    if row.query:
        url += "?" + row.query.format(reply_id=w.reply_id)
    return url


def check_answer(client: FlaskClient, response: TestResponse, expected: Answer, where: str) -> None:
    if isinstance(expected, int):
        assert response.status_code == expected, f"{where}: {response.status_code}, designed {expected}"
        return
    assert response.status_code == 302, f"{where}: {response.status_code}, designed a redirect to {expected.path}"
    location = urlsplit(response.headers["Location"]).path
    assert location.startswith(expected.path), f"{where}: redirected to {location}, designed {expected.path}"
    if expected is OUT:
        assert location == "/", f"{where}: redirected to {location}, designed the landing page"
    if expected.says:
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert expected.says in page.replace("&#39;", "'"), f"{where}: the page does not say {expected.says!r}"


def refused(expected: Answer) -> bool:
    return expected in (403, 404, LOGIN, ENROL)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_as_designed_for(matrix_app: Flask, role: str) -> None:
    w = build_world(matrix_app, role)
    client = client_for(w, role)
    if role == "banned":
        ban(w)
    column = ROLES.index(role)
    checked = 0
    # Sorted by URL, so the rows run in a fixed order (a moderator's actions each have their own target).
    for (method, endpoint), row in sorted(ROUTES.items(), key=lambda kv: (url_for_row(w, kv[0][0], kv[0][1],
                                                                                      kv[1]), kv[0][0])):
        expected = row.answers[column]
        url = url_for_row(w, method, endpoint, row)
        caller = fresh_client_for(w, role) if row.fresh else client
        data = row.data(w, w.account(role)) if row.data else {}
        before = snapshot(matrix_app) if method == "POST" and refused(expected) else None
        response = caller.open(url, method=method, data=data)
        where = f"{role}: {method} {url} ({endpoint})"
        assert response.status_code < 500, where
        check_answer(caller, response, expected, where)
        if before is not None:
            assert snapshot(matrix_app) == before, f"{where}: refused, yet something was written"
        checked += 1
    assert checked == len(ROUTES)


# Sockets -----------------------------------------------------------------------------------

def open_socket(app: Flask, http: FlaskClient) -> SocketIOTestClient:
    return socketio.test_client(app, flask_test_client=http)


def flag_something(w: World) -> None:
    """A member flags a chat line: the queue changes, and moderators' sockets hear of it."""
    with w.app.app_context():
        flagger = db.session.get_one(Member, w.accounts["partner"].id)
        target = moderation.access_flag_target(db.session, flagger, "chat", w.chat_id)
        moderation.do_flag(db.session, flagger, target, reason="risk")
        db.session.commit()


def live_sockets(app: Flask) -> int:
    with app.app_context():
        return len(db.session.scalars(select(LiveSocket.sid)).all())


def ack_code(ack: Any) -> str:
    assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
    return "ok" if ack["ok"] else str(ack["code"])


@pytest.mark.parametrize("role", ROLES)
def test_every_socket_event_answers_as_designed_for(matrix_app: Flask, role: str) -> None:
    w = build_world(matrix_app, role)
    column = ROLES.index(role)
    http = client_for(w, role)
    # One socket per event, all opened before a ban (a banned member cannot open one after).
    sockets = {name: open_socket(matrix_app, http) for name in EVENTS}
    if role == "banned":
        ban(w)
    try:
        connect = sockets["connect"]
        designed = EVENTS["connect"][column]
        if designed == "refused":
            assert not any(s.is_connected() for s in sockets.values()), role
        elif role == "banned":
            assert not any(s.is_connected() for s in sockets.values()), "a ban closes every open socket"
            assert not open_socket(matrix_app, http).is_connected(), "and refuses new ones"
            assert not open_socket(matrix_app, login_attempt(w)).is_connected()
        else:
            assert connect.is_connected(), role
            connect.get_received()
            flag_something(w)
            heard = [p for p in connect.get_received() if p["name"] == "queue"]
            assert bool(heard) == (designed == "moderators"), f"{role}: queue events {heard}, designed {designed}"

        for name in sorted(set(EVENTS) - {"connect", "disconnect"}):
            designed = EVENTS[name][column]
            sock = sockets[name]
            if designed in ("refused", "closed"):
                assert not sock.is_connected(), f"{role}: {name} socket still open, designed {designed}"
                continue
            before = live_sockets(matrix_app)
            ack = sock.emit(name, event_payload(name, w), callback=True)
            assert ack_code(ack) == designed, f"{role}: {name} answered {ack}, designed {designed}"
            assert sock.is_connected(), f"{role}: {name} closed the socket"
            assert live_sockets(matrix_app) == before

        designed = EVENTS["disconnect"][column]
        sock = sockets["disconnect"]
        if designed == "closed" and sock.is_connected():
            before = live_sockets(matrix_app)
            sock.disconnect()
            assert live_sockets(matrix_app) == before - 1, f"{role}: disconnect left its live_socket row"
        else:
            assert not sock.is_connected()
    finally:
        for sock in sockets.values():
            if sock.is_connected():
                sock.disconnect()


def login_attempt(w: World) -> FlaskClient:
    """The banned member's browser tries to log in again (and is refused)."""
    client = w.app.test_client()
    account = w.accounts["banned"]
    response = client.post("/login", data={"pseudonym": account.pseudonym, "password": account.password})
    assert response.status_code == 403
    return client

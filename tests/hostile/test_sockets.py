"""Hostile socket payloads on every chat event: wrong types, missing keys, nested junk,
huge strings, too many arguments, events the namespace does not know, and events named
like the connection's own ("connect", "disconnect").

Events come from the chat namespace's ``on_*`` handlers, so one added later is attacked
too. For every emit: an acknowledgement the client can read (never the catch-all
"something went wrong", which means an exception escaped), the socket still open, no
marker echoed as markup in any acknowledgement or broadcast, a refusal that writes
nothing, and every stored row whole.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from forum.chat.events import ChatNamespace
from forum.chat.models import LiveSocket
from forum.db import db
from forum.extensions import socketio
from forum.rooms.models import Room
from tests.hostile.conftest import (
    ANY_VALUE,
    HUGE,
    MARKERS,
    TEXT,
    World,
    assert_consistent,
    assert_no_echo,
    bounded,
    junk,
)
from tests.rooms.conftest import snapshot

EVENTS = sorted(name.removeprefix("on_") for name in vars(ChatNamespace) if name.startswith("on_")
                and name not in ("on_connect", "on_disconnect"))
# What a refusal may say; "error" (the catch-all for an exception) is not among them.
CODES = {"invalid", "not_found", "muted", "banned", "too_long", "empty", "rate_limited", "refused", "confirm",
         "held", "duplicate", "locked", "unavailable", "forbidden"}
KEYS = ("room_id", "body", "client_id", "confirmed", "after_id", "after_seq", "before_id", "thread_id")


def room_ids(world: World) -> list[int]:
    with world.app.app_context():
        return list(db.session.scalars(select(Room.id).order_by(Room.id)))


def known_ids(world: World) -> list[int]:
    return sorted({*room_ids(world), *world.ids["thread_id"], *world.ids["message_id"], 1})


def payloads(world: World) -> st.SearchStrategy[Any]:
    ids = st.one_of(st.sampled_from(known_ids(world)), st.sampled_from(known_ids(world)), junk())
    value = {"room_id": ids, "thread_id": ids, "after_id": ids, "after_seq": ids, "before_id": ids,
             "body": st.one_of(st.sampled_from(MARKERS), ANY_VALUE, HUGE, junk()),
             "client_id": st.one_of(st.text(alphabet="abcdefghijkl0123456789-_", min_size=8, max_size=12), junk()),
             "confirmed": st.one_of(st.booleans(), junk())}
    shaped = st.fixed_dictionaries({}, optional=value).flatmap(
        lambda base: st.dictionaries(st.text(max_size=10), junk(), max_size=3).map(lambda extra: {**extra, **base}))
    return st.one_of(shaped, shaped, junk())


def emitted(world: World) -> st.SearchStrategy[tuple[Any, ...]]:
    one = payloads(world)
    return st.one_of(one.map(lambda p: (p,)), one.map(lambda p: (p,)), st.lists(one, max_size=3).map(tuple))


def live_rows(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(LiveSocket)) or 0


def open_socket(app: Flask, http: FlaskClient) -> SocketIOTestClient:
    sock = socketio.test_client(app, flask_test_client=http)
    assert sock.is_connected()
    return sock


def assert_ack(ack: Any, where: str) -> None:
    assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), f"{where}: ack {ack!r}"
    if not ack["ok"]:
        assert ack.get("code") in CODES, f"{where}: ack {ack!r}"
        assert isinstance(ack.get("error"), str) and ack["error"], f"{where}: ack {ack!r}"
    assert_no_echo(repr_html(ack), None, where)


def repr_html(value: Any) -> str:
    """Every "html" string anywhere in an acknowledgement or event (what clients insert as markup)."""
    found: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for key, inner in v.items():
                if key == "html" and isinstance(inner, str):
                    found.append(inner)
                walk(inner)
        elif isinstance(v, list | tuple):
            for inner in v:
                walk(inner)

    walk(value)
    return "\n".join(found)


def attack_event(world: World, event: str, sockets: dict[str, SocketIOTestClient],
                 listeners: list[SocketIOTestClient]) -> None:
    app = world.app

    @bounded(20)
    @given(kind=st.sampled_from(sorted(sockets)), args=emitted(world), callback=st.sampled_from([True, True, False]))
    def one_event(kind: str, args: tuple[Any, ...], callback: bool) -> None:
        sock = sockets[kind]
        where = f"{kind} emits {event!r} {str(args)[:200]}"
        before = snapshot(app)
        ack = sock.emit(event, *args, callback=callback)
        if callback:
            assert_ack(ack, where)
            if not ack["ok"] and ack["code"] != "held":
                assert snapshot(app) == before, f"{where}: refused, yet something was written"
        assert sock.is_connected(), f"{where}: the socket was closed"
        for listener in listeners:
            for packet in listener.get_received():
                assert_no_echo(repr_html(packet["args"]), None, f"{where}: broadcast")
        assert_consistent(app)

    one_event()


def test_hostile_payloads_on_every_event(world: World) -> None:
    app = world.app
    assert {"join", "send", "leave", "history", "since", "watch_thread"} <= set(EVENTS)
    kinds = ("partner", "recovery", "moderator")
    sockets = {kind: open_socket(app, world.callers[kind].client) for kind in kinds}
    listeners = []  # an admin's socket in every room's chat hears every broadcast
    for room in room_ids(world):
        listeners.append(open_socket(app, world.callers["admin"].client))
        assert listeners[-1].emit("join", {"room_id": room}, callback=True)["ok"]

    # Markers that are stored for certain, so the escaping is checked on real broadcasts too.
    partner_room = room_ids(world)[0]
    for n, marker in enumerate(MARKERS):
        ack = sockets["partner"].emit("send", {"room_id": partner_room, "body": f"{marker} {n}"}, callback=True)
        assert_ack(ack, f"send {marker!r}")
        assert ack["ok"] is True, ack
    heard = [p for p in listeners[0].get_received() if p["name"] == "chat"]
    assert len(heard) == len(MARKERS)
    assert_no_echo(repr_html([p["args"] for p in heard]), None, "broadcast of the markers")
    for event in EVENTS:
        attack_event(world, event, sockets, listeners)
    assert live_rows(app) == len(sockets) + len(listeners)
    for sock in (*sockets.values(), *listeners):
        sock.disconnect()


def test_unknown_and_reserved_event_names(world: World) -> None:
    """Events the namespace has no handler for are ignored; "connect" and "disconnect" sent by a
    client are answered as malformed and change nothing, so log-out still closes the socket."""
    app = world.app
    partner = world.callers["partner"]
    sock = open_socket(app, partner.client)

    @bounded(30)
    @given(name=st.one_of(st.sampled_from(["connect", "disconnect", "message", "json", "error", "on_send",
                                           "__init__", "trigger_event", "", "join ", "JOIN"]), TEXT),
           args=st.lists(junk(), max_size=2))
    def one_name(name: str, args: list[Any]) -> None:
        before = snapshot(app)
        ack = sock.emit(name, *args, callback=True)
        assert ack in (None, []) or (isinstance(ack, dict) and ack.get("code") == "invalid"), f"{name!r}: {ack!r}"
        assert sock.is_connected(), name
        assert snapshot(app) == before, f"event {name!r} wrote something"

    one_name()
    assert live_rows(app) == 1, "a forged event dropped the socket's row"
    partner.client.post("/logout", data={"csrf_token": partner.token})
    assert not sock.is_connected(), "log-out did not reach the socket"


def test_hostile_auth_on_connect(world: World) -> None:
    """Whatever a client sends as its connect auth, members connect and visitors do not."""
    app = world.app

    @bounded(20)
    @given(auth=junk(), kind=st.sampled_from(["visitor", "partner", "moderator"]))
    def one_connect(auth: Any, kind: str) -> None:
        sock = socketio.test_client(app, flask_test_client=world.callers[kind].client,
                                    auth=auth if isinstance(auth, dict) else {"token": auth})
        assert sock.is_connected() == (kind != "visitor"), (kind, auth)
        if sock.is_connected():
            sock.disconnect()
        assert live_rows(app) == 0

    one_connect()

"""Chat over Socket.IO: a thin namespace that checks, calls an action, commits, acknowledges.

Every event re-reads the member from the server-side session that opened the socket
(``ServerSessionInterface.socket_member``), so a log-out, a password change or a ban
made since the socket connected holds from the next event on; a socket whose member
is gone is disconnected and told so. Events run in an app context of their own, not
in the request context Flask-SocketIO builds for each (a request object, URL
matching, Flask-Login's proxies and the teardown of a request cost about a sixth of a
chat line's time in the server); only ``connect`` and ``disconnect`` take that path.
Clients name rooms by id only; the server checks ``can_see_room`` and builds the
socket room name (``room:<id>``) itself, and answers a forbidden room exactly like a
missing one.

Events (client -> server, each acknowledged with ``{"ok": true, ...}`` or
``{"ok": false, "error": <text for the member>, "code": <code>}``):

- ``join`` {room_id, after_seq?}: enter a room's chat (one at a time per socket);
  answers ``seq``, the room's latest change number, with the last CHAT_HISTORY
  messages, or with ``after_seq`` the ``changes`` since that number (reconnect
  catch-up, paged with ``has_more``), and the presence count.
- ``leave`` {room_id}: leave the chat (the socket stays connected).
- ``send`` {room_id, body, client_id?, confirmed?}: ``forum.chat.actions.do_send_message``.
- ``history`` {room_id, before_id}: older messages.
- ``since`` {room_id, after_seq}: the ``changes`` after a change number, as ``chat``
  events (add with the message as it is now, or remove), in order, paged with
  ``has_more``. Clients ask when a live event's ``seq`` skips a number, after a
  reconnect, and now and then, so a broadcast lost on the way (a message-queue
  restart) still arrives.
- ``watch_thread`` {thread_id}: live ``post`` events of a thread page.

Server -> client: ``chat`` (add/update/remove with ``seq``, to ``room:<id>``), ``presence`` (to
``room:<id>``), ``post`` (to ``thread:<id>``), ``queue`` (to ``moderators``).
On connect every socket joins ``member:<id>``; moderators also join ``moderators``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, request, session
from flask_login import current_user
from flask_socketio import Namespace, disconnect, join_room, leave_room, rooms
from sqlalchemy.exc import SQLAlchemyError

from forum import permissions
from forum.accounts.models import Member
from forum.chat import actions, presence, queries
from forum.db import db, utcnow
from forum.errors import ActionError, NotFound
from forum.extensions import socketio
from forum.moderation.actions import MODERATORS_ROOM
from forum.rooms.actions import access_room_by_id, access_thread, thread_channel
from forum.rooms.models import Room
from forum.sessions import ServerSessionInterface, StoreUnavailable

log = logging.getLogger(__name__)

UNAUTHORIZED = {"ok": False, "code": "unauthorized", "error": "Your session has ended. Please log in again."}
MALFORMED = {"ok": False, "code": "invalid", "error": "That request didn't make sense to us. Please reload the page."}
FAILED = {"ok": False, "code": "error",
          "error": "Something went wrong on our side. Nothing you did caused it; please try again."}
HELD = ("Thank you. A moderator will look at your message shortly before others can see it. "
        "This is routine and not a judgment of you.")

_ROOMS = "haven_chat_rooms"
NAMESPACE = "/"

# Sockets this process holds (for the presence heartbeat; see forum.chat.presence).
_local_sids: set[str] = set()
_heartbeat_lock = threading.Lock()
_heartbeat_started = False


def member_channel(member_id: int) -> str:
    return f"member:{member_id}"


def _member() -> Member | None:
    """The member behind the connecting request's session, if logged in and allowed in."""
    if not current_user.is_authenticated:
        return None
    member = current_user._get_current_object()
    return member if isinstance(member, Member) and member.is_active else None


def _store_unavailable() -> bool:
    """Whether the connecting request's session could not be read (the database is away), as opposed to ended."""
    return bool(getattr(session, "unavailable", False))


def _sid() -> str:
    """This socket's id: ``g.socket_sid`` in a member's event (``ChatNamespace.run_member_event``),
    the request's on connect and disconnect."""
    sid = g.get("socket_sid")
    return sid if sid is not None else str(request.sid)  # type: ignore[attr-defined]


# Payload fields ----------------------------------------------------------------------------

def _id_field(data: dict[str, Any], key: str, *, required: bool = True) -> int | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not actions.valid_id(value):
        raise ActionError("That request didn't make sense to us. Please reload the page.", code="invalid")
    return int(value)  # type: ignore[arg-type]


def _seq_field(data: dict[str, Any], key: str, *, required: bool = True) -> int | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= actions.MAX_ID):
        raise ActionError("That request didn't make sense to us. Please reload the page.", code="invalid")
    return value


def _room(member: Member, data: dict[str, Any]) -> Room:
    """The room named by ``room_id``, if ``member`` may see it; not_found otherwise (same answer).

    Checked on every event against the member as they are now. Rooms are made once
    (``flask seed``) and their audience never changes, so each process keeps the rows
    it has read (detached: id, slug, name and audience are all a chat event uses)
    rather than reading the same row for every chat line.
    """
    room_id = data.get("room_id")
    known: dict[int, Room] = current_app.extensions.setdefault(_ROOMS, {})
    room = known.get(room_id) if actions.valid_id(room_id) else None  # type: ignore[arg-type]
    if room is None:
        room = access_room_by_id(db.session, member, room_id if actions.valid_id(room_id) else 0)  # type: ignore[arg-type]
        db.session.expunge(room)
        known[room.id] = room
    elif not permissions.can_see_room(member, room):
        raise NotFound()
    return room


def _page(page: queries.MessagePage, member: Member) -> dict[str, Any]:
    """A page of messages as ``member`` receives it (lines by members they muted are hidden)."""
    from forum.safety.muting import chat_payloads

    return {"messages": chat_payloads(db.session, member, page.messages), "has_more": page.has_more}


def _changes(page: queries.ChangePage, member: Member) -> dict[str, Any]:
    """Catch-up changes as ``member`` receives them, as ``chat`` events in change order."""
    from forum.safety.muting import chat_payloads

    payloads = chat_payloads(db.session, member, page.messages)
    return {"changes": [queries.change_event(member, m, p) for m, p in zip(page.messages, payloads, strict=True)],
            "has_more": page.has_more}


# The member events by name ("send" for ``on_send``), run by ``ChatNamespace.run_member_event``.
_MEMBER_EVENTS: dict[str, Callable[[Any, Member, dict[str, Any]], dict[str, Any]]] = {}


def member_event(handler: Callable[[Any, Member, dict[str, Any]], dict[str, Any]]
                 ) -> Callable[[Any, Member, dict[str, Any]], dict[str, Any]]:
    """Make ``on_<name>`` the handler of a member's event ``<name>`` (see ``ChatNamespace.run_member_event``)."""
    _MEMBER_EVENTS[handler.__name__.removeprefix("on_")] = handler
    return handler


def _enter(room: str) -> None:
    join_room(room, sid=_sid(), namespace=NAMESPACE)


def _leave(room: str) -> None:
    leave_room(room, sid=_sid(), namespace=NAMESPACE)


def _extra(exc: ActionError) -> dict[str, Any]:
    ack = exc.to_ack()
    return {"confirm": ack["confirm"]} if "confirm" in ack else {}


class ChatNamespace(Namespace):
    """The default namespace: chat rooms, thread pages, personal and moderator channels."""

    def trigger_event(self, event: str, *args: Any) -> Any:
        """Run ``event``'s handler; ``connect`` and ``disconnect`` only when the server sends them.

        A client may emit events named "connect" or "disconnect", which python-socketio
        hands to the same handlers. A forged "disconnect" would drop the socket's
        live_socket row while it stays open, so a log-out or a ban could no longer close
        it. Such events arrive while the socket is fully connected (the real ones never
        do) and are answered as malformed. Events without a handler get no answer.
        """
        if event in ("connect", "disconnect"):
            if args and self.server.manager.is_connected(args[0], self.namespace):
                return dict(MALFORMED)
            return super().trigger_event(event, *args)
        handler = _MEMBER_EVENTS.get(event) if isinstance(event, str) else None
        if handler is None or not args:
            return None
        return self.run_member_event(handler, str(args[0]), args[1:])

    def run_member_event(self, handler: Callable[[Any, Member, dict[str, Any]], dict[str, Any]], sid: str,
                         args: tuple[Any, ...]) -> dict[str, Any]:
        """Run a member's event: re-check the member, parse the one dict argument, commit, always acknowledge.

        In an app context of its own (``g.socket_sid`` names the socket). A member who is
        gone (logged out, password changed, banned, session expired) has their socket
        disconnected. Errors never escape as exceptions and nothing of the payload is logged.
        """
        environ = self.server.get_environ(sid, namespace=self.namespace)
        if not environ:
            return dict(MALFORMED)  # the socket closed meanwhile
        app: Flask = environ["flask.app"]
        interface = app.session_interface
        if not isinstance(interface, ServerSessionInterface):
            raise TypeError("Haven's sockets need its server-side sessions")
        with app.app_context():
            g.socket_sid = sid
            try:
                member = interface.socket_member(app, environ)
            except StoreUnavailable:
                return dict(FAILED)  # the database is briefly away: the member is not logged out, try again
            if member is None:
                _forget_socket(sid)
                disconnect(sid=sid, namespace=self.namespace)
                return dict(UNAUTHORIZED)
            if len(args) != 1 or not isinstance(args[0], dict):
                return dict(MALFORMED)
            try:
                ack = handler(self, member, args[0])
                db.session.commit()
                return ack
            except ActionError as exc:
                db.session.rollback()
                return {"ok": False, "error": exc.message, "code": exc.code, **_extra(exc)}
            except Exception as exc:  # noqa: BLE001 - the client always gets an answer
                db.session.rollback()
                log.error("chat event %s failed: %s", handler.__name__, type(exc).__name__)
                return dict(FAILED)

    def on_connect(self, auth: Any = None) -> bool:
        if _store_unavailable():
            return False  # refused for now; the client tries again by itself
        member = _member()
        if member is None:
            return False  # refused: the client sees a connect_error
        sid = _sid()
        try:
            presence.do_open_socket(db.session, sid, member)
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
            log.error("could not record a socket")
            return False
        _enter(member_channel(member.id))
        # Moderation events, like moderation pages, need the second factor entered in this session.
        if permissions.can_moderate(member):
            _enter(MODERATORS_ROOM)
        _local_sids.add(sid)
        _ensure_heartbeat(current_app._get_current_object())  # type: ignore[attr-defined]
        return True

    def on_disconnect(self, reason: Any = None) -> None:
        _forget_socket(_sid())

    @member_event
    def on_join(self, member: Member, data: dict[str, Any]) -> dict[str, Any]:
        room = _room(member, data)
        after_seq = _seq_field(data, "after_seq", required=False)
        sid = _sid()
        previous = presence.do_enter_room(db.session, sid, member, room)
        if previous is not None:
            _leave(actions.room_channel(previous))
        # Join before reading, so a change committed meanwhile is either read here or
        # broadcast to this socket (the client applies each change once, by number).
        _enter(actions.room_channel(room.id))
        seq = queries.current_seq(db.session, room)
        if after_seq is not None:
            body = _changes(queries.changes_after(db.session, member, room, after_seq), member)
        else:
            body = _page(queries.recent_messages(db.session, member, room, current_app.config["CHAT_HISTORY"]),
                         member)
        return {"ok": True, "room_id": room.id, "seq": seq, "catch_up": after_seq is not None,
                "present": presence.present_count(db.session, room.id), **body}

    @member_event
    def on_leave(self, member: Member, data: dict[str, Any]) -> dict[str, Any]:
        room = _room(member, data)
        if actions.room_channel(room.id) in rooms(sid=_sid(), namespace=NAMESPACE):
            presence.do_leave_room(db.session, _sid())
            _leave(actions.room_channel(room.id))
        return {"ok": True, "room_id": room.id}

    @member_event
    def on_send(self, member: Member, data: dict[str, Any]) -> dict[str, Any]:
        room = _room(member, data)
        confirmed = data.get("confirmed", False)
        if not isinstance(confirmed, bool):
            raise ActionError("That request didn't make sense to us. Please reload the page.", code="invalid")
        try:
            sent = actions.do_send_message(db.session, member, room, data.get("body"), data.get("client_id"),
                                           confirmed=confirmed)
        except ActionError as exc:
            # A resend (its answer was lost on the way) is answered with the line stored the
            # first time, even if it would now be refused (too fast, or a watched word added since).
            if exc.code not in ("duplicate", "refused", "rate_limited"):
                raise
            db.session.rollback()
            existing = actions.find_sent_message(db.session, member, actions.check_client_id(data.get("client_id")))
            if existing is None:
                raise
            if existing.room_id != room.id:
                raise ActionError("That message couldn't be sent. Please reload the page.", code="invalid") from None
            return send_ack(actions.Sent(existing, None))
        return send_ack(sent)

    @member_event
    def on_history(self, member: Member, data: dict[str, Any]) -> dict[str, Any]:
        room = _room(member, data)
        before_id = _id_field(data, "before_id")
        page = queries.recent_messages(db.session, member, room, current_app.config["CHAT_HISTORY"], before_id)
        return {"ok": True, "room_id": room.id, **_page(page, member)}

    @member_event
    def on_since(self, member: Member, data: dict[str, Any]) -> dict[str, Any]:
        room = _room(member, data)
        after_seq = _seq_field(data, "after_seq") or 0
        seq = queries.current_seq(db.session, room)
        return {"ok": True, "room_id": room.id, "seq": seq,
                **_changes(queries.changes_after(db.session, member, room, after_seq), member)}

    @member_event
    def on_watch_thread(self, member: Member, data: dict[str, Any]) -> dict[str, Any]:
        thread_id = data.get("thread_id")
        thread = access_thread(db.session, member, thread_id if actions.valid_id(thread_id) else 0)  # type: ignore[arg-type]
        _enter(thread_channel(thread.id))
        return {"ok": True, "thread_id": thread.id}


def send_ack(sent: actions.Sent) -> dict[str, Any]:
    """The answer to a send: ok with the message, or ``held`` (stored, shown to nobody else yet)."""
    message = sent.message
    payload = queries.message_payload(message)
    if message.status == "held":
        return {"ok": False, "code": "held", "error": HELD, "id": message.id, "message": payload}
    ack: dict[str, Any] = {"ok": True, "id": message.id, "message": payload}
    if sent.verdict is not None and sent.verdict.crisis:
        ack["crisis"] = True
    if sent.verdict is not None and sent.verdict.message and sent.verdict.decision in ("flag", "publish"):
        ack["notice"] = sent.verdict.message
    return ack


def _forget_socket(sid: str) -> None:
    """Drop the socket's row and tell the chat room it was in (also when its row is already gone)."""
    _local_sids.discard(sid)
    try:
        joined = [int(name.split(":", 1)[1]) for name in rooms(sid=sid, namespace=NAMESPACE)
                  if name.startswith("room:")]
    except (KeyError, ValueError):
        joined = []
    try:
        presence.do_close_socket(db.session, sid, joined)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.error("could not forget a socket")


def _ensure_heartbeat(app: Flask) -> None:
    """Start this process's presence heartbeat once (see forum.chat.presence)."""
    global _heartbeat_started
    interval = int(app.config.get("CHAT_PRESENCE_HEARTBEAT", 30) or 0)
    if not interval or _heartbeat_started:
        return
    with _heartbeat_lock:
        if _heartbeat_started:
            return
        _heartbeat_started = True
    socketio.start_background_task(_heartbeat, app, interval)


def _heartbeat(app: Flask, interval: int) -> None:
    while True:
        socketio.sleep(interval)
        try:
            with app.app_context():
                session = db.new_session()
                try:
                    now = utcnow()
                    presence.refresh_sockets(session, list(_local_sids), now)
                    presence.sweep_stale(session, now)
                    session.commit()
                finally:
                    session.close()
        except Exception as exc:  # noqa: BLE001 - try again at the next beat
            log.warning("presence heartbeat failed: %s", type(exc).__name__)


def register(app: Flask) -> None:
    """Attach chat to ``app``: the socket namespace and the HTTP routes.

    Called after ``socketio.init_app``, which builds a new Socket.IO server for each
    app; ``on_namespace`` then registers on that server directly.
    """
    from forum.chat.routes import bp

    app.register_blueprint(bp)
    socketio.on_namespace(ChatNamespace("/"))

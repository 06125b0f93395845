"""Thread pages, rendered once per thread version for everyone who reads them alike.

The list of posts is most of a thread page's cost (a macro call per post). It changes only
when the thread's posts change, and every such change bumps ``Thread.version`` in the same
transaction (as ``version + 1`` in SQL, so concurrent writers each count). So the list is
rendered once per (thread, version, page, view class) and kept in a per-process LRU; a
request whose freshly read thread row has that version reuses it. Several processes each
keep their own copy; none can serve another's stale one, because the key is the version
read from the database. The page around the list is kept as well ("The whole page", below).

What differs between two members reading the same page never enters the cached HTML.
``rooms/_post.html`` asks ``view`` for it, and ``view`` leaves a mark that is filled in for
each request from what that request knows:

- the author's name, which an author the reader muted does not show ("A member you muted";
  the reader's mutes are read with their session). The names themselves are read when the
  page is rendered: a new pseudonym or an author leaving moves on the version of every
  thread holding their posts (``forum.rooms.actions.renew_pages_of``);
- the placeholder around the text of a muted author's post;
- the reader's own edit and delete links, the mute button and the flag link (never on
  one's own posts);
- the reply links (the reader may be muted, the thread may be closed);
- the CSRF token and the flag link's way back (this request's address);
- relative times ("3 minutes ago"): the same for everyone at one moment, so worked out at
  most once a second per cached page.

What differs between view classes is part of the key: moderators see removed and hidden
posts and held text, and moderators past the second factor get the content-warning
control. A member reading a page that holds a post of theirs waiting for review sees its
text: that page is rendered for them alone and not kept.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, render_template, request
from flask import session as web_session
from jinja2.ext import Extension
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from forum import permissions
from forum.accounts.models import Member
from forum.db import as_utc, db, utcnow
from forum.main.templating import when
from forum.moderation import notices
from forum.rooms import queries
from forum.rooms.models import Post, Thread, Visibility
from forum.safety.queries import muted_member_ids
from forum.security import csrf_token as signed_csrf_token

# Room for about 150 rendered pages of 100 posts each; the least recently used go first.
MAX_CACHED_CHARS = 32_000_000
# A mark is NUL, this process's random key, what to fill in, NUL. Member text can't hold NUL
# (forum.text.clean refuses it), and without the key nobody can forge a mark anyway.
_KEY = secrets.token_hex(8)
_MARK = re.compile("\x00" + _KEY + "([^\x00]*)\x00")
# werkzeug's own query-string encoding, so the flag link reads as url_for would build it.
_QUERY_SAFE = "!$'()*,/:;?@"

# Operations of a compiled page (plain strings are copied as they are).
_NAME, _WHEN, _CSRF, _BACK, _IF = range(5)
MUTED_LABEL = "A member you muted"
FORMER_LABEL = "A former member"


def _mark(payload: str) -> Markup:
    return Markup("\x00" + _KEY + payload + "\x00")  # noqa: S704 - our own key and a fixed-form payload


class View:
    """What ``rooms/_post.html`` may ask about its reader: the view class, and marks for the rest.

    ``viewer_id`` is set only when rendering for one member alone (see the module docstring).
    """

    def __init__(self, moderator: bool, can_warn: bool, viewer_id: int | None = None) -> None:
        self.moderator = moderator
        self.can_warn = can_warn
        self._viewer_id = viewer_id
        self.times: list[datetime] = []

    def withheld(self, post: Post) -> bool:
        """A held post whose text this reader may not see (``permissions.can_see_post_text``)."""
        if post.status != Visibility.HELD or self.moderator:
            return False
        return self._viewer_id is None or post.author_id != self._viewer_id

    def name(self, author_id: int) -> Markup:
        return _mark(f"n{author_id}")

    def when(self, value: datetime) -> Markup:
        self.times.append(value)
        return _mark(f"w{len(self.times) - 1}")

    def csrf(self) -> Markup:
        return _mark("c")

    def back(self) -> Markup:
        """This request's path and query, encoded as a query value (the flag form's way back)."""
        return _mark("b")

    # Sections shown to some readers only: ``if_* ... [otherwise ...] end``.
    def if_muted(self, author_id: int) -> Markup:
        return _mark(f"?muted:{author_id}")

    def if_own(self, author_id: int) -> Markup:
        return _mark(f"?own:{author_id}")

    def if_not_own(self, author_id: int | None) -> Markup:
        return _mark(f"?other:{'' if author_id is None else author_id}")

    def if_can_mute(self, author_id: int) -> Markup:
        return _mark(f"?mute:{author_id}")

    def if_can_reply(self) -> Markup:
        return _mark("?reply:")

    def otherwise(self) -> Markup:
        return _mark("|")

    def end(self) -> Markup:
        return _mark("/")


@dataclass
class Reader:
    """One request's answers to the marks."""

    member_id: int
    can_reply: bool
    names: dict[int, str]  # the page's ``Rendered.names``
    muted: frozenset[int]  # authors on the page the reader muted

    def holds(self, cond: str, author_id: int | None) -> bool:
        if cond == "reply":
            return self.can_reply
        if cond == "other":
            return author_id != self.member_id
        if cond == "own":
            return author_id == self.member_id
        if cond == "muted":
            return author_id in self.muted
        # "mute": someone else, still a member, not muted yet
        return author_id != self.member_id and author_id in self.names and author_id not in self.muted

    def profile(self, rendered: Rendered) -> Hashable:
        """Everything about this reader that the sections and names of ``rendered`` depend on:
        readers with equal profiles get the same page, apart from times, token and way back."""
        own = self.member_id if self.member_id in rendered.author_ids else None
        return (self.can_reply, own, self.muted)


@dataclass
class Rendered:
    """A page of posts compiled into strings and marks, with what filling it in needs."""

    ops: list[Any]
    page: queries.Page
    shown: bool  # the page had posts (it may still show none: held posts are left out)
    author_ids: frozenset[int]
    held_authors: frozenset[int]
    names: dict[int, str]  # author id -> pseudonym (escaped) when rendered; absent: a former member
    size: int


class Resolved:
    """``Rendered`` with the sections and names of one reader profile decided: strings, and
    the slots still filled in later (times, the CSRF token, the way back).

    Kept encoded: a page is sent as bytes, and encoding 300 KB of text on every request
    would cost more than the rest of the request. Times and the way back are the same for
    every request of one address within a second, so they are filled in once a second into
    the stretches between the CSRF slots; a request then joins those stretches with its
    token (one ``bytes.join``).
    """

    def __init__(self, pieces: list[str], slots: tuple[tuple[int, int, datetime | None], ...], size: int) -> None:
        self.pieces = [piece.encode() for piece in pieces]
        self.size = size
        self._slots = [(index, kind, value) for index, kind, value in slots if kind != _CSRF]
        self._csrf_at = [index for index, kind, _ in slots if kind == _CSRF]
        # (second, way back, the stretches between CSRF slots) as last worked out.
        self._filled: tuple[int, bytes | None, list[bytes]] = (-1, None, [])

    def _stretches(self) -> list[bytes]:
        now = int(utcnow().timestamp())  # the clock when() reads
        second, back, stretches = self._filled
        if second == now and (back is None or back == _back_bytes()):
            return stretches
        back = None
        pieces = self.pieces.copy()
        for index, kind, value in self._slots:
            if kind == _WHEN:
                pieces[index] = when(value).encode()
            else:
                back = back or _back_bytes()
                pieces[index] = back
        stretches, start = [], 0
        for index in self._csrf_at:
            stretches.append(b"".join(pieces[start:index]))
            start = index + 1
        stretches.append(b"".join(pieces[start:]))
        self._filled = (now, back, stretches)
        return stretches

    def encoded(self) -> bytes:
        """This request's rendering (escaped HTML, see ``html``)."""
        stretches = self._stretches()
        return _csrf_bytes().join(stretches) if len(stretches) > 1 else stretches[0]

    def html(self) -> Markup:
        # Pieces are the template's escaped output; slots are escaped (token, way back) or plain text (times).
        return Markup(self.encoded().decode())  # noqa: S704


def _csrf_bytes() -> bytes:
    return str(escape(signed_csrf_token())).encode()


def _back_bytes() -> bytes:
    """This request's path and query, encoded as a query value (the flag form's way back)."""
    return str(escape(urlencode([("", request.full_path.rstrip("?"))], safe=_QUERY_SAFE)[1:])).encode()


def _compile(html: str, times: list[datetime]) -> tuple[list[Any], int]:
    """Split rendered HTML at its marks into operations; returns them and the characters kept."""
    pieces = _MARK.split(html)
    root: list[Any] = []
    stack = [root]
    size = 0
    for index, piece in enumerate(pieces):
        ops = stack[-1]
        if index % 2 == 0:
            if piece:
                size += len(piece)
                if ops and isinstance(ops[-1], str):
                    ops[-1] += piece
                else:
                    ops.append(piece)
            continue
        kind, arg = piece[0], piece[1:]
        if kind == "n":
            ops.append((_NAME, int(arg)))
        elif kind == "w":
            ops.append((_WHEN, as_utc(times[int(arg)])))
        elif kind == "c":
            ops.append((_CSRF,))
        elif kind == "b":
            ops.append((_BACK,))
        elif kind == "?":
            cond, _, author = arg.partition(":")
            section: tuple[int, str, int | None, list[Any], list[Any]] = (
                _IF, cond, int(author) if author else None, [], [])
            ops.append(section)
            stack.append(section[3])
        elif kind == "|":
            stack.pop()
            stack.append(stack[-1][-1][4])
        elif kind == "/":
            stack.pop()
    if len(stack) != 1:
        raise RuntimeError("rooms/_post.html: a view.if_* section is not closed by view.end()")
    return root, size


def _resolve(rendered: Rendered, reader: Reader) -> Resolved:
    pieces: list[str] = []
    slots: list[tuple[int, int, datetime | None]] = []
    text: list[str] = []

    def flush() -> None:
        if text:
            pieces.append("".join(text))
            text.clear()

    def walk(ops: list[Any]) -> None:
        for op in ops:
            if isinstance(op, str):
                text.append(op)
            elif op[0] == _NAME:
                text.append(MUTED_LABEL if op[1] in reader.muted else reader.names.get(op[1], FORMER_LABEL))
            elif op[0] == _IF:
                walk(op[3] if reader.holds(op[1], op[2]) else op[4])
            else:
                flush()
                slots.append((len(pieces), op[0], op[1] if op[0] == _WHEN else None))
                pieces.append("")

    walk(rendered.ops)
    flush()
    return Resolved(pieces, tuple(slots), sum(len(p) for p in pieces))


class _Unindent(Extension):
    """Drops the indentation of every line of a template's source (not of what it outputs)."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return "\n".join(line.lstrip() for line in source.split("\n"))


def _posts_template() -> Any:
    """``rooms/_posts.html`` from an overlay of the app's Jinja environment that drops the
    template's own indentation and the lines its tags stand on (about a quarter of a page's
    bytes, sent on every request); the posts' text is unchanged."""
    env = current_app.extensions.get("haven_posts_env")
    if env is None:
        env = current_app.extensions.setdefault(
            "haven_posts_env", current_app.jinja_env.overlay(trim_blocks=True, lstrip_blocks=True,
                                                             extensions=[_Unindent]))
    return env.get_template("rooms/_posts.html")


def _render(session: Session, nodes: list[queries.Node], page: queries.Page, view: View) -> Rendered:
    template = _posts_template()
    ops, size = _compile(template.render(nodes=nodes, view=view), view.times)
    posts: list[Post] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        posts.append(node.post)
        stack.extend(node.children)
    authors = frozenset(p.author_id for p in posts if p.author_id is not None)
    held = frozenset(p.author_id for p in posts if p.status == Visibility.HELD and p.author_id is not None)
    names = {author: str(escape(name)) for author, name in queries.member_names(session, authors).items()}
    return Rendered(ops, page, bool(nodes), authors, held, names, size)


class PageCache:
    """A thread-safe LRU of rendered pages (``Rendered`` and ``Resolved``), bounded by the
    characters it keeps."""

    def __init__(self, max_chars: int = MAX_CACHED_CHARS) -> None:
        self.max_chars = max_chars
        self._entries: OrderedDict[Hashable, Rendered | Resolved | Shell] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Rendered | Resolved | Shell | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, entry: Rendered | Resolved | Shell) -> None:
        if entry.size > self.max_chars:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._chars -= old.size
            self._entries[key] = entry
            self._chars += entry.size
            while self._chars > self.max_chars:
                _, evicted = self._entries.popitem(last=False)
                self._chars -= evicted.size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = 0

    def __len__(self) -> int:
        return len(self._entries)


def page_cache(app: Flask | None = None) -> PageCache:
    """The app's cache (one per app, so two apps in one process never share entries)."""
    app = app or current_app
    cache = app.extensions.get("haven_post_pages")
    if cache is None:
        cache = app.extensions.setdefault("haven_post_pages", PageCache())
    return cache  # type: ignore[no-any-return]


@dataclass
class Posts:
    """What a thread page shows of its posts, ready for the template (``html``) or for
    ``whole_page`` (``resolved``; ``key`` is None when the rendering was for this reader alone)."""

    resolved: Resolved
    key: Hashable | None
    page: queries.Page
    shown: bool
    can_reply: bool

    @property
    def html(self) -> Markup:
        return self.resolved.html()


def thread_posts(session: Session, member: Member, thread: Thread | queries.ThreadHead, root: Post | None, number: int, size: int,
                 max_depth: int) -> Posts:
    """Page ``number`` of ``thread`` (or of the branch below ``root``) as ``member`` sees it.

    ``member`` may see ``thread`` (and ``root``): the caller checked. Reads the posts and
    their authors' names only when this version of the page isn't cached.
    """
    moderator = permissions.is_moderator(member)
    can_warn = permissions.can_moderate(member)
    key = ("page", thread.id, thread.version, root.id if root else 0, number, size, max_depth, moderator,
           can_warn, request.script_root)
    cache = page_cache()
    rendered = cache.get(key)
    nodes: list[queries.Node] | None = None
    alone = False
    if not isinstance(rendered, Rendered):
        nodes, page = _load(session, thread, root, number, size, max_depth)
        rendered = _render(session, nodes, page, View(moderator, can_warn))
        if page.exists:
            cache.put(key, rendered)
    if not moderator and member.id in rendered.held_authors:
        if nodes is None:
            nodes, _ = _load(session, thread, root, number, size, max_depth)
        rendered = _render(session, nodes, rendered.page, View(moderator, can_warn, viewer_id=member.id))
        alone = True
    can_reply = permissions.can_reply_in(member, thread)
    muted = muted_member_ids(session, member.id) & rendered.author_ids
    reader = Reader(member.id, can_reply, rendered.names, muted)
    if alone:
        return Posts(_resolve(rendered, reader), None, rendered.page, rendered.shown, can_reply)
    reader_key = (key, reader.profile(rendered))
    found = cache.get(reader_key)
    if isinstance(found, Resolved):
        resolved = found
    else:
        resolved = _resolve(rendered, reader)
        cache.put(reader_key, resolved)
    return Posts(resolved, reader_key, rendered.page, rendered.shown, can_reply)


def _load(session: Session, thread: Thread | queries.ThreadHead, root: Post | None, number: int, size: int,
          max_depth: int) -> tuple[list[queries.Node], queries.Page]:
    if root is None:
        return queries.thread_posts(session, thread, number, size, max_depth)
    return queries.subtree_posts(session, root, number, size, max_depth)


# The whole page ---------------------------------------------------------------------------
#
# A thread page is its list of posts inside a layout (menu, breadcrumbs, heading, reply
# form) that is the same for every reader of one view class but for five things: the
# reader's pseudonym in the menu, their unread-notice count, the CSRF token, the reply
# form's fresh submit key, and the posts themselves (whose per-reader parts ``Resolved``
# fills in). So the layout is rendered once per posts rendering and thread heading, with
# marks where those five go, and kept as bytes; a request copies it and fills the marks
# in. Pages carrying a flashed message are rendered as usual (and the message consumed).

_SHELL_SLOTS = frozenset({"c", "k", "p", "u", "P"})


class PageMarks:
    """What ``base.html`` shows instead of the reader's own parts while a shell is rendered."""

    pseudonym = _mark("p")
    notices = _mark("u")


class Shell:
    """A page compiled into bytes and the names of the slots between them."""

    def __init__(self, ops: list[bytes | str]) -> None:
        self.ops = ops
        self.size = sum(len(op) for op in ops)


def csrf_token() -> str:
    """The templates' ``csrf_token()``: Flask-WTF's token, or its mark while a shell is rendered
    (macros imported without context see only globals, so this has to be one)."""
    if g.get("haven_page_marks"):
        return _mark("c")
    return signed_csrf_token()


def _render_shell(template: str, posts: Posts, context: dict[str, Any]) -> Shell:
    marked = replace(posts, resolved=Resolved([_mark("P")], (), 0))  # its html is the posts' mark
    g.haven_page_marks = True
    try:
        html = render_template(template, **{**context, "posts": marked, "submit_key": _mark("k"),
                                             "page_marks": PageMarks})
    finally:
        g.haven_page_marks = False
    if signed_csrf_token() in html:  # a token reached the page past the marks: it would go to every reader
        raise RuntimeError(f"{template}: the CSRF token was rendered into a page kept for many readers")
    ops: list[bytes | str] = []
    for index, piece in enumerate(_MARK.split(html)):
        if index % 2 == 0:
            if piece:
                ops.append(piece.encode())
        elif piece in _SHELL_SLOTS:
            ops.append(piece)
        else:
            raise RuntimeError(f"{template}: mark {piece!r} has no place in a whole page")
    return Shell(ops)


def whole_page(template: str, member: Member, posts: Posts, heading: Hashable, **context: Any) -> Response | str:
    """``template`` for this request, with ``posts`` and ``context`` (which holds ``submit_key``).

    ``heading`` is everything else of the page's own that it shows (the thread's title,
    state, counts, its author's name, the room): part of the key, with ``posts.key`` (the
    thread's version, the view class, the reader's profile) and whether the menu links
    to the moderation pages. ``member`` is the reader (``current_user``).
    """
    if posts.key is None or web_session.get("_flashes"):
        return render_template(template, posts=posts, **context)
    key = ("shell", posts.key, heading, member.is_moderator, request.script_root)
    cache = page_cache()
    shell = cache.get(key)
    if not isinstance(shell, Shell):
        shell = _render_shell(template, posts, context)
        cache.put(key, shell)
    count = notices.menu_count(db.session, member.id)
    fills = {
        "c": _csrf_bytes(),
        "k": str(escape(context["submit_key"])).encode(),
        "p": str(escape(member.pseudonym)).encode(),
        "u": current_app.jinja_env.get_template("_nav_notices.html").render(
            nav_unread_notices=count).encode() if count else b"",
        "P": posts.resolved.encoded(),
    }
    page = b"".join([op if isinstance(op, bytes) else fills[op] for op in shell.ops])
    return current_app.response_class(page, mimetype="text/html")

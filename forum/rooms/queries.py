"""Reads for rooms, threads and posts.

Every page is a fixed number of queries however many posts a thread holds: the
room index is one query (counters are denormalised on Room), a room page two
(count + page), a thread page three (count + page + which shown posts have
deeper replies). Authors and rooms come joined, never lazily per post.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from forum import permissions
from forum.accounts.models import Member
from forum.rooms.models import Post, Room, Thread, Visibility, reply_count

MAX_PAGE = 100_000


@dataclass
class Page:
    number: int
    size: int
    total: int

    @property
    def count(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count

    @property
    def exists(self) -> bool:
        """Page 1 always exists (it may be empty); later pages only within the total."""
        return self.number == 1 or self.number <= self.count


@dataclass
class Node:
    post: Post
    children: list[Node] = field(default_factory=list)
    more_below: bool = False  # replies exist deeper than the display limit
    continued: bool = False  # answers a post shown on an earlier page


def page_number(raw: object) -> int:
    """``?page=`` as a number from 1; anything unreadable is page 1."""
    try:
        number = int(str(raw))
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


def visible_rooms(session: Session, member: Member) -> list[Room]:
    stmt = select(Room).order_by(Room.audience, Room.position, Room.id)
    if not permissions.is_moderator(member):
        stmt = stmt.where(Room.audience == member.path)
    return list(session.scalars(stmt))


def _visible_threads(stmt: Select, member: Member) -> Select:  # type: ignore[type-arg]
    if permissions.is_moderator(member):
        return stmt
    return stmt.where(or_(Thread.status.in_([Visibility.PUBLISHED, Visibility.DELETED]),
                          (Thread.status == Visibility.HELD) & (Thread.author_id == member.id)))


def visible_thread_count(session: Session, member: Member, room: Room) -> int:
    """How many threads of ``room`` ``member`` may see, without counting every thread.

    The published ones are counted on the room (``Room.thread_count``, kept in step by every
    action that publishes or withdraws a thread); the others ``member`` may see (deleted ones;
    their own held ones; for moderators every state) are few, and ``ix_thread_room_status``
    counts them without reading the published ones.
    """
    others = select(func.count()).select_from(Thread).where(Thread.room_id == room.id)
    if permissions.is_moderator(member):
        others = others.where(Thread.status.in_([v for v in Visibility if v != Visibility.PUBLISHED]))
    else:
        others = others.where(or_(Thread.status == Visibility.DELETED,
                                  (Thread.status == Visibility.HELD) & (Thread.author_id == member.id)))
    return room.thread_count + (session.scalar(others) or 0)


def room_threads(session: Session, member: Member, room: Room, number: int, size: int) -> tuple[list[Thread], Page]:
    """Threads of ``room`` that ``member`` may see: pinned first, then by last activity."""
    base = _visible_threads(select(Thread).where(Thread.room_id == room.id), member)
    total = visible_thread_count(session, member, room)
    threads = session.scalars(
        base.order_by(Thread.pinned.desc(), Thread.last_activity_at.desc(), Thread.id.desc())
        .limit(size).offset((number - 1) * size)).unique().all()
    return list(threads), Page(number, size, total)


@dataclass(frozen=True)
class RoomHead:
    id: int
    slug: str
    name: str
    audience: str


@dataclass(frozen=True)
class ThreadHead:
    """What a thread page reads of its thread, its room and its author's name: one row of a
    Core statement, not three ORM objects (every page view reads it; the ORM's loading of
    them cost eight times the query). Read-only; writes load ``Thread``."""

    id: int
    author_id: int | None
    title: str
    status: str
    locked: bool
    version: int
    post_count: int
    author_name: str | None
    room: RoomHead

    @property
    def reply_count(self) -> int:
        return reply_count(self.status, self.post_count)


_THREADS, _ROOMS, _MEMBERS = Thread.__table__, Room.__table__, Member.__table__
_THREAD_HEAD = (
    select(_THREADS.c.id, _THREADS.c.author_id, _THREADS.c.title, _THREADS.c.status, _THREADS.c.locked,
           _THREADS.c.version, _THREADS.c.post_count, _MEMBERS.c.pseudonym,
           _ROOMS.c.id, _ROOMS.c.slug, _ROOMS.c.name, _ROOMS.c.audience)
    .join(_ROOMS, _ROOMS.c.id == _THREADS.c.room_id)
    .outerjoin(_MEMBERS, _MEMBERS.c.id == _THREADS.c.author_id)
    .where(_THREADS.c.id == bindparam("id")))


def thread_head(session: Session, thread_id: int) -> ThreadHead | None:
    row = session.connection().execute(_THREAD_HEAD, {"id": thread_id}).first()
    if row is None:
        return None
    (id_, author_id, title, status, locked, version, post_count, author_name, room_id, slug, name, audience) = row
    return ThreadHead(id_, author_id, title, status, bool(locked), version, post_count, author_name,
                      RoomHead(room_id, slug, name, audience))


def _subtree(root: Post) -> object:
    """``root`` and everything below it. Keys are fixed-width ids joined by '/', so a
    prefix match is exact and holds under any database collation."""
    return or_(Post.id == root.id, Post.sort_key.startswith(root.sort_key + "/", autoescape=True))


def thread_posts(session: Session, thread: Thread | ThreadHead, number: int, size: int,
                 max_depth: int) -> tuple[list[Node], Page]:
    """One page of ``thread`` in reading order, as trees; nesting stops at ``max_depth``.

    Posts deeper than ``max_depth`` are not loaded: the deepest shown post says more
    replies wait in its "continue this thread" view.
    """
    where = (Post.thread_id == thread.id, Post.depth <= max_depth)
    return _paged_tree(session, where, thread.id, number, size, max_depth)


def subtree_posts(session: Session, root: Post, number: int, size: int, max_depth: int) -> tuple[list[Node], Page]:
    """``root`` and the replies below it, ``max_depth`` levels deep (the "continue this thread" view)."""
    where = (Post.thread_id == root.thread_id, _subtree(root), Post.depth <= root.depth + max_depth)
    return _paged_tree(session, where, root.thread_id, number, size, root.depth + max_depth)


def _paged_tree(session: Session, where: tuple[object, ...], thread_id: int, number: int, size: int,
                deepest: int) -> tuple[list[Node], Page]:
    """Three queries: how many, which (authors joined), and which of the deepest have replies."""
    total = session.scalar(select(func.count(Post.id)).where(*where)) or 0  # type: ignore[arg-type]
    posts = list(session.scalars(select(Post).where(*where).order_by(Post.sort_key)  # type: ignore[arg-type]
                                 .limit(size).offset((number - 1) * size)).unique())
    deep = _parents_with_deeper_replies(session, thread_id, [p.id for p in posts if p.depth == deepest])
    return build_tree(posts, deep), Page(number, size, total)


def _parents_with_deeper_replies(session: Session, thread_id: int, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return set(session.scalars(select(Post.parent_id).where(Post.thread_id == thread_id,
                                                             Post.parent_id.in_(ids)).distinct()))


def build_tree(posts: list[Post], deep_parents: set[int]) -> list[Node]:
    """Nest posts (already in reading order) under their parents.

    A post whose parent is on an earlier page starts a tree of its own, marked
    ``continued`` so the page can say what it answers.
    """
    nodes: dict[int, Node] = {}
    roots: list[Node] = []
    for post in posts:
        node = Node(post, more_below=post.id in deep_parents)
        nodes[post.id] = node
        parent = nodes.get(post.parent_id) if post.parent_id else None
        if parent is not None:
            parent.children.append(node)
        else:
            node.continued = post.parent_id is not None
            roots.append(node)
    return roots


def member_names(session: Session, member_ids: Iterable[int]) -> dict[int, str]:
    """The current pseudonyms of the members among ``member_ids`` (a member who left is absent)."""
    ids = sorted(member_ids)
    if not ids:
        return {}
    rows = session.execute(select(Member.id, Member.pseudonym).where(Member.id.in_(ids))).tuples()
    return {member_id: name for member_id, name in rows}


def opening_post(session: Session, thread: Thread) -> Post | None:
    return session.scalar(select(Post).where(Post.thread_id == thread.id, Post.parent_id.is_(None)))


def post_location(session: Session, post: Post, size: int, max_depth: int) -> tuple[str, dict[str, object]]:
    """Where ``post`` is shown: (endpoint, url_for values) of its page, anchored at it.

    Posts down to ``max_depth`` live on the thread's pages; deeper ones in the
    "continue this thread" view of the ancestor where the nesting stopped.
    """
    anchor = f"post-{post.id}"
    if post.depth <= max_depth:
        before = session.scalar(select(func.count()).select_from(Post).where(
            Post.thread_id == post.thread_id, Post.depth <= max_depth, Post.sort_key < post.sort_key)) or 0
        values: dict[str, object] = {"thread_id": post.thread_id, "_anchor": anchor}
        endpoint = "rooms.thread"
    else:
        root_depth = max_depth * ((post.depth - 1) // max_depth)
        parts = post.sort_key.split("/")
        root_key = "/".join(parts[:root_depth + 1])
        before = session.scalar(select(func.count()).select_from(Post).where(
            Post.thread_id == post.thread_id, Post.depth <= root_depth + max_depth,
            Post.sort_key.startswith(root_key + "/", autoescape=True), Post.sort_key < post.sort_key)) or 0
        before += 1  # the root itself heads the view
        values = {"post_id": int(parts[root_depth]), "_anchor": anchor}
        endpoint = "rooms.post"
    number = before // size + 1
    if number > 1:
        values["page"] = number
    return endpoint, values


def can_read(member: Member, post: Post) -> bool:
    return permissions.can_see_post_text(member, post)

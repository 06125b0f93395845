"""Reads for rooms, threads and posts. Query counts never grow with the number of posts."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from forum import permissions
from forum.accounts.models import Member
from forum.rooms.models import Post, Room, Thread, Visibility


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


@dataclass
class Node:
    post: Post
    children: list[Node] = field(default_factory=list)
    more_below: bool = False  # replies exist deeper than the display limit


def page_number(raw: object) -> int:
    try:
        number = int(str(raw))
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), 100_000)


def visible_rooms(session: Session, member: Member) -> list[Room]:
    stmt = select(Room).order_by(Room.audience, Room.position, Room.id)
    if not member.is_moderator:
        stmt = stmt.where(Room.audience == member.path)
    return list(session.scalars(stmt))


def _visible_threads(stmt: Select, member: Member) -> Select:  # type: ignore[type-arg]
    if member.is_moderator:
        return stmt
    return stmt.where(or_(Thread.status.in_([Visibility.PUBLISHED, Visibility.DELETED]),
                          (Thread.status == Visibility.HELD) & (Thread.author_id == member.id)))


def room_threads(session: Session, member: Member, room: Room, number: int, size: int) -> tuple[list[Thread], Page]:
    """Threads of ``room`` that ``member`` may see: pinned first, then by last activity."""
    base = _visible_threads(select(Thread).where(Thread.room_id == room.id), member)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    threads = session.scalars(
        base.order_by(Thread.pinned.desc(), Thread.last_activity_at.desc(), Thread.id.desc())
        .limit(size).offset((number - 1) * size)).unique().all()
    return list(threads), Page(number, size, total)


def thread_posts(session: Session, member: Member, thread: Thread, number: int, size: int,
                 max_depth: int) -> tuple[list[Node], Page]:
    """One page of ``thread`` in reading order, as trees; nesting stops at ``max_depth``.

    Posts deeper than ``max_depth`` are not loaded: the deepest shown post says more
    replies wait in its "continue this thread" view.
    """
    base = select(Post).where(Post.thread_id == thread.id, Post.depth <= max_depth)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    posts = session.scalars(base.order_by(Post.sort_key).limit(size).offset((number - 1) * size)).unique().all()
    deep_parents = _parents_with_deeper_replies(session, thread.id, [p.id for p in posts if p.depth == max_depth])
    return build_tree(list(posts), deep_parents), Page(number, size, total)


def subtree_posts(session: Session, root: Post, number: int, size: int, max_depth: int) -> tuple[list[Node], Page]:
    """``root`` and the replies below it (the "continue this thread" view)."""
    prefix = root.sort_key + "/"
    # '/' sorts just before '0', so descendants are the keys in [prefix, prefix-with-'0').
    base = select(Post).where(Post.thread_id == root.thread_id, or_(
        Post.id == root.id,
        (Post.sort_key >= prefix) & (Post.sort_key < root.sort_key + "0")),
        Post.depth <= root.depth + max_depth)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    posts = session.scalars(base.order_by(Post.sort_key).limit(size).offset((number - 1) * size)).unique().all()
    deep = _parents_with_deeper_replies(session, root.thread_id,
                                        [p.id for p in posts if p.depth == root.depth + max_depth])
    return build_tree(list(posts), deep), Page(number, size, total)


def _parents_with_deeper_replies(session: Session, thread_id: int, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return set(session.scalars(select(Post.parent_id).where(Post.thread_id == thread_id,
                                                             Post.parent_id.in_(ids)).distinct()))


def build_tree(posts: list[Post], deep_parents: set[int]) -> list[Node]:
    """Nest posts (already in reading order) under their parents; orphans on a page become roots."""
    nodes: dict[int, Node] = {}
    roots: list[Node] = []
    for post in posts:
        node = Node(post, more_below=post.id in deep_parents)
        nodes[post.id] = node
        parent = nodes.get(post.parent_id) if post.parent_id else None
        (parent.children if parent else roots).append(node)
    return roots


def opening_post(session: Session, thread: Thread) -> Post | None:
    return session.scalar(select(Post).where(Post.thread_id == thread.id, Post.parent_id.is_(None)))


def can_read(member: Member, post: Post) -> bool:
    return permissions.can_see_post_text(member, post)

"""Moderation writes. This module starts with what the write path needs: queueing screened text.

The moderators' queue, flags and the actions they take are added beside it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.events import notify
from forum.moderation.models import ReviewItem
from forum.moderation.screening import Verdict

MODERATORS_ROOM = "moderators"


def queue_for_review(session: Session, *, item_type: str, item_id: int, author_id: int | None,
                     room_id: int, labels: list[str] | tuple[str, ...], priority: int) -> ReviewItem:
    """Open (or raise the priority of) the queue entry for one item; tells moderators live."""
    item = session.scalar(select(ReviewItem).where(
        ReviewItem.item_type == item_type, ReviewItem.item_id == item_id, ReviewItem.state == "open"))
    if item is None:
        item = ReviewItem(item_type=item_type, item_id=item_id, author_id=author_id, room_id=room_id,
                          priority=priority, labels=list(dict.fromkeys(labels)))
        session.add(item)
    else:
        item.priority = max(item.priority, priority)
        item.labels = list(dict.fromkeys([*item.labels, *labels]))
    session.flush()
    notify(session, "queue", {"type": "queue", "op": "update", "id": item.id}, to=MODERATORS_ROOM)
    return item


def record_screening(session: Session, *, item_type: str, item_id: int, author_id: int | None,
                     room_id: int, verdict: Verdict) -> ReviewItem | None:
    """Queue text that screening held or flagged; published-clean text needs nothing."""
    if verdict.decision not in ("hold", "flag"):
        return None
    return queue_for_review(session, item_type=item_type, item_id=item_id, author_id=author_id,
                            room_id=room_id, labels=verdict.labels, priority=verdict.priority)

"""Watched words: the moderators' list that screening matches against."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.moderation.models import WatchedWord
from forum.moderation.screening import normalize_for_matching


def do_seed_starter_terms(session: Session) -> int:
    """Add the shipped starter list's terms that are missing; returns how many were added."""
    from forum.moderation import starter_terms

    existing = set(session.scalars(select(WatchedWord.normalized)))
    added = 0
    for term in starter_terms.STARTER_TERMS:
        normalized = normalize_for_matching(term.phrase)
        if not normalized or normalized in existing:
            continue
        session.add(WatchedWord(phrase=term.phrase, normalized=normalized, action=term.action,
                                replacement=term.replacement, label=term.label, created_by_id=None))
        existing.add(normalized)
        added += 1
    session.flush()
    return added

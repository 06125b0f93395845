"""Watched words: the moderators' list that screening matches against.

Moderators add and remove entries in the web interface (every change logged); the
screening pipeline notices a changed list on the next text it screens, in every
process (see ``forum.moderation.pipeline._screener``). ``flask seed`` copies the
shipped starter list in.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum import permissions
from forum.accounts.models import Member
from forum.errors import ActionError, NotFound
from forum.events import on_commit
from forum.moderation.log import record
from forum.moderation.models import WatchedWord
from forum.moderation.queries import MAX_ID
from forum.moderation.screening import normalize_for_matching
from forum.text.clean import clean_text

ACTIONS: dict[str, str] = {
    "refuse": "Refuse (not posted; the author is told why)",
    "hold": "Hold for review",
    "flag": "Publish and flag for review",
    "replace": "Replace the word",
}
LABELS: tuple[str, ...] = ("slur", "insult", "shaming", "threat", "spam", "watched")


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


def list_words(session: Session) -> list[WatchedWord]:
    return list(session.scalars(select(WatchedWord).order_by(WatchedWord.label, WatchedWord.normalized)))


def _check_moderator(member: Member) -> None:
    if not permissions.is_moderator(member):
        raise NotFound()


def do_add_word(session: Session, moderator: Member, *, phrase: object, action: object,
                replacement: object = None, label: object = None) -> WatchedWord:
    """Add a watched word or phrase; screening uses it from the next text on. Logged.

    All problems are reported together; a phrase already on the list (in any spelling
    that normalises the same way) is refused.
    """
    _check_moderator(moderator)
    errors: dict[str, str] = {}
    clean_phrase = ""
    try:
        clean_phrase = clean_text(phrase, field="phrase", label="Word or phrase", max_length=200, multiline=False)
    except ActionError as exc:
        errors.update(exc.fields)
    normalized = normalize_for_matching(clean_phrase) if clean_phrase else ""
    if clean_phrase and not normalized:
        errors["phrase"] = "Please type at least one letter or digit."
    elif normalized and session.scalar(select(WatchedWord.id).where(WatchedWord.normalized == normalized)):
        errors["phrase"] = "That word or phrase is already on the list."
    if action not in ACTIONS:
        errors["action"] = "Please choose what happens when it appears."
    clean_replacement: str | None = None
    if action == "replace" and isinstance(replacement, str) and replacement.strip():
        try:
            clean_replacement = clean_text(replacement, field="replacement", label="Replacement",
                                           max_length=200, multiline=False)
        except ActionError as exc:
            errors.update(exc.fields)
    clean_label = label.strip().lower() if isinstance(label, str) and label.strip() else "watched"
    if clean_label not in LABELS:
        errors["label"] = "Please choose a kind."
    if errors:
        raise ActionError(next(iter(errors.values())), fields=errors)
    word = WatchedWord(phrase=clean_phrase, normalized=normalized, action=str(action),
                       replacement=clean_replacement, label=clean_label, created_by_id=moderator.id)
    session.add(word)
    session.flush()
    record(session, moderator, "word_add", reason=f"{word.action} ({word.label})",
           before={"phrase": None, "new_phrase": word.phrase})
    _refresh_after_commit(session)
    return word


def do_remove_word(session: Session, moderator: Member, word_id: int) -> None:
    """Remove a watched word; screening stops matching it from the next text on. Logged with the entry."""
    _check_moderator(moderator)
    word = session.get(WatchedWord, word_id) if 0 < word_id <= MAX_ID else None
    if word is None:
        raise NotFound()
    before = {"phrase": word.phrase, "action": word.action, "replacement": word.replacement, "label": word.label}
    session.delete(word)
    session.flush()
    record(session, moderator, "word_remove", reason=f"{before['action']} ({before['label']})", before=before)
    _refresh_after_commit(session)


def _refresh_after_commit(session: Session) -> None:
    from forum.moderation.pipeline import invalidate_cache

    on_commit(session, invalidate_cache)

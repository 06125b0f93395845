"""Pseudonym rules and the "suggest a pseudonym" generator."""

from __future__ import annotations

import re
import secrets
import unicodedata

MIN_LENGTH = 3
MAX_LENGTH = 24
_ALLOWED = re.compile(r"^[\w \-]+$")
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+|\bat\b.*\bdot\b", re.IGNORECASE)
_URL = re.compile(r"(https?|www)|\w\.(com|net|org|io|co|uk|de|fr|info|me|app|xyz)\b", re.IGNORECASE)
_STAFF_WORDS = frozenset({"mod", "mods", "moderator", "moderators", "admin", "admins", "administrator",
                          "haven", "staff", "official", "support", "sysop", "team", "system"})
_STAFF_INSIDE = ("moderator", "admin", "haven")

_ADJECTIVES = (
    "Quiet", "Gentle", "Steady", "Calm", "Patient", "Hopeful", "Brave", "Kind", "Soft", "Still",
    "Bright", "Warm", "Tender", "Open", "Clear", "Honest", "Growing", "Rising", "Mellow", "Willow",
)
_NOUNS = (
    "River", "Harbor", "Meadow", "Lantern", "Sparrow", "Cedar", "Morning", "Tide", "Stone", "Fern",
    "Heron", "Orchard", "Valley", "Ember", "Birch", "Brook", "Pebble", "Lark", "Maple", "Shore",
)


def pseudonym_key(pseudonym: str) -> str:
    """The case-insensitive identity of a pseudonym (uniqueness and log-in use this)."""
    return unicodedata.normalize("NFKC", pseudonym).casefold()


def pseudonym_problem(pseudonym: str) -> str | None:
    """What is wrong with ``pseudonym`` in words a member understands, or None."""
    if not (MIN_LENGTH <= len(pseudonym) <= MAX_LENGTH):
        return f"A pseudonym is {MIN_LENGTH} to {MAX_LENGTH} characters long."
    if "@" in pseudonym or _EMAIL.search(pseudonym):
        return "That looks like an email address. Please choose a name that doesn't identify you."
    if sum(ch.isdigit() for ch in pseudonym) >= 7:
        return "That looks like a phone number. Please choose a name that doesn't identify you."
    if _URL.search(pseudonym):
        return "That looks like a web address. Please choose a plain name."
    if not _ALLOWED.match(pseudonym):
        return "Use letters, digits, spaces, hyphens and underscores only."
    lowered = pseudonym_key(pseudonym).replace("0", "o")
    tokens = set(re.split(r"[\s_\-\d]+", lowered))
    joined = re.sub(r"[\s_\-\d]+", "", lowered)
    if tokens & _STAFF_WORDS or any(word in joined for word in _STAFF_INSIDE):
        return "That name could be mistaken for Haven's staff. Please choose another."
    return None


def suggest_pseudonym() -> str:
    """A calm, non-identifying pseudonym: two words and a number."""
    return f"{secrets.choice(_ADJECTIVES)} {secrets.choice(_NOUNS)} {secrets.randbelow(90) + 10}"

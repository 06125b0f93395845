"""Pseudonym rules and the "suggest a pseudonym" generator.

A pseudonym must not identify anyone (no email address, phone number or web
address), must not pass for Haven's staff, and must not be confusable with
another member's: uniqueness ignores case, Unicode compatibility forms and the
difference between spaces, hyphens and underscores.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

MIN_LENGTH = 3
MAX_LENGTH = 24
# Longer input is not worth running the pattern checks on: it is refused for its length.
_CHECKED_LENGTH = 256

_SEPARATORS = re.compile(r"[\s_\-]+")
_TLDS = "com|net|org|io|co|uk|us|de|fr|nl|info|biz|me|app|xyz|online|site|ly|gg|tv|to"
_EMAIL = re.compile(
    r"@|\b(at)\b.*\b(dot)\b|\b(gmail|googlemail|hotmail|outlook|yahoo|icloud|proton(mail)?|aol|gmx)\b",
    re.IGNORECASE)
_URL = re.compile(
    rf"https?\s*:|\bhttps?\b|\bwww\b|\w\s*\.\s*({_TLDS})\b", re.IGNORECASE)
# The same, written out in words ("jane dot com"), once separators are read as spaces.
_SPELLED_URL = re.compile(rf"\bdot\s+({_TLDS})\b")
_PHONE_DIGITS = 7
# Digits written as words count towards a phone number too ("555 one two three four").
_NUMBER_WORDS = frozenset({"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"})

_STAFF_WORDS = frozenset({"mod", "mods", "moderator", "moderators", "moderation", "admin", "admins",
                          "administrator", "haven", "staff", "official", "support", "sysop", "team",
                          "system", "helpdesk", "founder", "founders", "webmaster", "postmaster",
                          "superuser", "verified"})
_STAFF_INSIDE = ("moderator", "admin", "haven", "staff", "official")
# Ordinary words that happen to contain one of the above.
_BENIGN = ("badminton", "unshaven", "shaven")
# Digits and look-alike letters from other alphabets read as the Latin letter they imitate.
_LOOKALIKE = str.maketrans({
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "һ": "h", "ν": "v", "ο": "o", "α": "a", "ι": "i", "κ": "k", "τ": "t",
    "м": "m", "н": "h", "т": "t", "в": "b", "к": "k", "п": "n",
})
_CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})

_ADJECTIVES = (
    "Quiet", "Gentle", "Steady", "Calm", "Patient", "Hopeful", "Brave", "Kind", "Soft", "Still",
    "Bright", "Warm", "Tender", "Open", "Clear", "Honest", "Growing", "Rising", "Mellow", "Willow",
)
_NOUNS = (
    "River", "Harbor", "Meadow", "Lantern", "Sparrow", "Cedar", "Morning", "Tide", "Stone", "Fern",
    "Heron", "Orchard", "Valley", "Ember", "Birch", "Brook", "Pebble", "Lark", "Maple", "Shore",
)

TOO_SHORT_OR_LONG = f"A pseudonym is {MIN_LENGTH} to {MAX_LENGTH} characters long."
LOOKS_LIKE_EMAIL = "That looks like an email address. Please choose a name that doesn't identify you."
LOOKS_LIKE_PHONE = "That looks like a phone number. Please choose a name that doesn't identify you."
LOOKS_LIKE_URL = "That looks like a web address. Please choose a plain name."
BAD_CHARACTERS = "Use letters, digits, spaces, hyphens and underscores only."
NO_LETTERS = "A pseudonym needs at least one letter or digit."
MIXED_SCRIPTS = "Please use letters from one alphabet, so your name can't be mistaken for someone else's."
LOOKS_LIKE_STAFF = "That name could be mistaken for Haven's staff. Please choose another."
TAKEN = "That pseudonym is taken. Please choose another."
HURTFUL_NAME = ("That pseudonym contains a word our moderators keep out of Haven. "
                "Please choose a name that couldn't hurt or judge anyone.")


def normalize_pseudonym(pseudonym: str) -> str:
    """The form a pseudonym is stored and shown in: compatibility characters folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", pseudonym).split())


def pseudonym_key(pseudonym: str) -> str:
    """The identity of a pseudonym for uniqueness and log-in.

    Case, compatibility forms ("ｆｕｌｌ-width") and the choice between a space, a
    hyphen and an underscore don't make a different name.
    """
    folded = unicodedata.normalize("NFKC", pseudonym).casefold().strip()
    return _SEPARATORS.sub(" ", folded)


def _allowed_characters(pseudonym: str) -> bool:
    """Letters (with their accents), digits, spaces, hyphens and underscores."""
    previous = ""
    for ch in pseudonym:
        category = unicodedata.category(ch)
        if ch.isalnum() or ch in " -_":
            pass
        elif category in ("Mn", "Mc") and previous.isalpha():
            pass  # a combining accent on a letter, as some scripts always write them
        else:
            return False
        previous = ch if not category.startswith("M") else ""
    return True


def _scripts(pseudonym: str) -> set[str]:
    return {unicodedata.name(ch, "UNKNOWN").split()[0] for ch in pseudonym if ch.isalpha()}


def _impersonates_staff(pseudonym: str) -> bool:
    skeleton = pseudonym_key(pseudonym).translate(_LOOKALIKE)
    tokens = {t for t in re.split(r"[^a-z]+", skeleton) if t}
    joined = re.sub(r"[^a-z]+", "", skeleton)
    for word in _BENIGN:
        joined = joined.replace(word, "")
    # "m o d" and "a_d_m_i_n" read as the word they spell.
    return bool(tokens & _STAFF_WORDS) or joined in _STAFF_WORDS or any(word in joined for word in _STAFF_INSIDE)


def pseudonym_problem(pseudonym: str) -> str | None:
    """What is wrong with ``pseudonym`` (already normalized), in words a member understands, or None.

    Identifying looks are named first, whatever the length, because "that looks
    like an email address" helps more than "too long".
    """
    if len(pseudonym) > _CHECKED_LENGTH:
        return TOO_SHORT_OR_LONG
    spaced = pseudonym_key(pseudonym)  # "jane_at_gmail" reads as "jane at gmail"
    if _EMAIL.search(pseudonym) or _EMAIL.search(spaced):
        return LOOKS_LIKE_EMAIL
    number_words = sum(token in _NUMBER_WORDS for token in spaced.split())
    if sum(ch.isdigit() for ch in pseudonym) + number_words >= _PHONE_DIGITS:
        return LOOKS_LIKE_PHONE
    if _URL.search(pseudonym) or _SPELLED_URL.search(spaced):
        return LOOKS_LIKE_URL
    if not (MIN_LENGTH <= len(pseudonym) <= MAX_LENGTH) or len(pseudonym_key(pseudonym)) > MAX_LENGTH:
        return TOO_SHORT_OR_LONG
    if not _allowed_characters(pseudonym):
        return BAD_CHARACTERS
    if not any(ch.isalnum() for ch in pseudonym):
        return NO_LETTERS  # "---" and "_ _" would all be one and the same invisible name
    if len(_scripts(pseudonym) & _CONFUSABLE_SCRIPTS) > 1:
        return MIXED_SCRIPTS
    if _impersonates_staff(pseudonym):
        return LOOKS_LIKE_STAFF
    return None


def suggest_pseudonym() -> str:
    """A calm, non-identifying pseudonym: two words and a number."""
    return f"{secrets.choice(_ADJECTIVES)} {secrets.choice(_NOUNS)} {secrets.randbelow(90) + 10}"

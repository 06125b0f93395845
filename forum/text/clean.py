"""Checks shared by every field a member types: Unicode hygiene and length limits."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote_to_bytes

from forum.errors import ActionError

# Control characters other than tab, newline and carriage return have no place in text.
_FORBIDDEN = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\x7f"}
# Direction overrides and isolates can make a one-line name or title read as something else.
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
# Characters that draw nothing although they are not "whitespace" to str.strip().
_BLANK_LOOKALIKES = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}


def _is_blank(value: str) -> bool:
    return all(ch.isspace() or ch in _BLANK_LOOKALIKES or unicodedata.category(ch) == "Cf" for ch in value)


def clean_text(value: object, *, field: str, label: str, max_length: int,
               min_length: int = 1, multiline: bool = True) -> str:
    """Return ``value`` as normalised text, or raise ActionError naming ``label``.

    Refuses non-strings, NUL and other control bytes, text that arrived as invalid
    UTF-8 (decoded to U+FFFD) or holds lone surrogates, direction overrides in
    one-line fields, empty or whitespace-only text and text longer than
    ``max_length`` characters (counted after normalising to NFC).
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ActionError(f"{label} must be text.", field=field)
    if "\ufffd" in value:
        raise ActionError(f"{label} contains characters we couldn't read. Please retype it.", field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ActionError(f"{label} contains characters we couldn't read. Please retype it.",
                          field=field) from None
    if any(ch in _FORBIDDEN for ch in value):
        raise ActionError(f"{label} contains invisible control characters. Please retype it.", field=field)
    if not multiline and any(ch in _BIDI_CONTROLS for ch in value):
        raise ActionError(f"{label} contains invisible direction marks. Please retype it.", field=field)
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    if not multiline:
        value = " ".join(value.split())
    value = value.strip()
    if _is_blank(value):
        raise ActionError(f"{label} can't be empty.", field=field)
    if len(value) < min_length:
        raise ActionError(f"{label} needs at least {min_length} characters.", field=field)
    if len(value) > max_length:
        raise ActionError(f"{label} can be at most {max_length:,} characters (this is {len(value):,}).",
                          field=field)
    return value


def urlencoded_is_utf8(body: bytes) -> bool:
    """Whether every name and value of an ``application/x-www-form-urlencoded`` body is UTF-8.

    Werkzeug keeps a %-escape that doesn't decode as literal text ("%FF") and drops
    raw bytes that don't decode without a word; either way what arrives is not what
    the member typed, so such a body is refused as a whole rather than parsed.
    """
    for pair in body.split(b"&"):
        for part in pair.split(b"=", 1):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return False
    return True

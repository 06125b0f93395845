"""Checks shared by every field a member types: Unicode hygiene and length limits."""

from __future__ import annotations

import unicodedata

from forum.errors import ActionError

# Control characters other than tab, newline and carriage return have no place in text.
_FORBIDDEN = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\x7f"}


def clean_text(value: object, *, field: str, label: str, max_length: int,
               min_length: int = 1, multiline: bool = True) -> str:
    """Return ``value`` as normalised text, or raise ActionError naming ``label``.

    Refuses non-strings, NUL and other control bytes, lone surrogates, empty or
    whitespace-only text and text longer than ``max_length`` characters.
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
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    if not multiline:
        value = " ".join(value.split())
    value = value.strip()
    if len(value) < min_length:
        if min_length <= 1:
            raise ActionError(f"{label} can't be empty.", field=field)
        raise ActionError(f"{label} needs at least {min_length} characters.", field=field)
    if len(value) > max_length:
        raise ActionError(f"{label} can be at most {max_length:,} characters (this is {len(value):,}).",
                          field=field)
    return value

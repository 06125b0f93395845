"""The HTML sanitizer. The only module that imports bleach, so it can be swapped.

The allowlist is deliberately small: no images (a hot-linked image tells its
host every reader's address), no svg/math/style/class or raw-text elements, and
link schemes http, https and mailto only. Every link gets
``rel="nofollow noopener noreferrer ugc"``.
"""

from __future__ import annotations

from collections.abc import Iterable

import bleach
from bleach.linkifier import Linker

ALLOWED_TAGS = frozenset({
    "p", "br", "em", "strong", "ul", "ol", "li", "blockquote", "a", "code", "pre", "hr", "del",
})
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"], "ol": ["start"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer ugc"

_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS, strip=True,
    strip_comments=True,
)


def _set_rel(attrs: dict, new: bool = False) -> dict | None:
    href = attrs.get((None, "href"), "")
    if not href:
        return attrs
    attrs[(None, "rel")] = LINK_REL
    return attrs


_linker = Linker(callbacks=[_set_rel], skip_tags={"pre", "code"}, parse_email=False)
_plain_linker = Linker(callbacks=[_set_rel], parse_email=False)


def sanitize_html(html: str) -> str:
    """Reduce ``html`` to the allowlist and mark every link as user content."""
    cleaned = _cleaner.clean(html)
    return _linker.linkify(cleaned)


def linkify_plain(text: str) -> str:
    """Escape plain ``text`` completely and make its http(s) links clickable (chat lines)."""
    escaped = bleach.clean(text, tags=set(), strip=False)
    return _plain_linker.linkify(escaped)


def allowed_tags() -> Iterable[str]:
    return ALLOWED_TAGS

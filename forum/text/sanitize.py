"""The HTML sanitizer. The only module that imports bleach, so it can be swapped.

The allowlist is deliberately small: no images (a hot-linked image tells its
host every reader's address), no svg/math/style/class or raw-text elements, and
link schemes http, https and mailto only (plus links within Haven). Every link
gets ``rel="nofollow noopener noreferrer ugc"``; a link whose address did not
survive is unwrapped to its text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import bleach
from bleach.html5lib_shim import Filter
from bleach.linkifier import Linker, build_url_re

ALLOWED_TAGS = frozenset({
    "p", "br", "em", "strong", "ul", "ol", "li", "blockquote", "a", "code", "pre", "hr", "del", "s",
})
ALLOWED_ATTRIBUTES = {"a": ["href", "title"], "ol": ["start"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer ugc"

_HREF = (None, "href")
_REL = (None, "rel")


class _LinkFilter(Filter):  # type: ignore[misc]
    """Mark every surviving link as user content; unwrap links left without an address."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        unwrapped: list[bool] = []
        for token in super().__iter__():
            kind, name = token.get("type"), token.get("name")
            if name == "a" and kind == "StartTag":
                attrs = dict(token.get("data") or {})
                if not attrs.get(_HREF):
                    unwrapped.append(True)
                    continue
                unwrapped.append(False)
                attrs[_REL] = LINK_REL
                token = {**token, "data": attrs}
            elif name == "a" and kind == "EndTag":
                if unwrapped and unwrapped.pop():
                    continue
            yield token


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS, strip=True,
    strip_comments=True, filters=[_LinkFilter],
)


def _set_rel(attrs: dict, new: bool = False) -> dict | None:
    if attrs.get(_HREF):
        attrs[_REL] = LINK_REL
    return attrs


# Chat links: http(s) only (bleach's default list would also link ftp: and others).
_plain_linker = Linker(callbacks=[_set_rel], parse_email=False, url_re=build_url_re(protocols=["http", "https"]))
# Every address the linker recognises has a scheme or a "name.tld"; text without either
# (most chat lines) skips the two HTML parses, which cost far more than the rest of a send.
_LINK_CANDIDATE = re.compile(r"://|[\w-]\.[a-z]{2,}", re.IGNORECASE)


def sanitize_html(html: str) -> str:
    """Reduce ``html`` to the allowlist and mark every link as user content."""
    return str(_cleaner.clean(html))


def linkify_plain(text: str) -> str:
    """Escape plain ``text`` completely and make its http(s) links clickable (chat lines)."""
    escaped = html.escape(text, quote=False)
    if not _LINK_CANDIDATE.search(text):
        return escaped
    return str(_plain_linker.linkify(escaped))

"""Turn member text into safe HTML, once, at write time.

Posts: a small Markdown subset (paragraphs, emphasis, lists, quotes, links, line
breaks, code) with raw HTML off, then the sanitizer. Chat: plain text with links.
What is stored is the source and this HTML; pages never render Markdown.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

from forum.text.sanitize import linkify_plain, sanitize_html

_LINK_SCHEMES = ("http:", "https:", "mailto:")


def _link_allowed(url: str) -> bool:
    """Markdown links may point at http(s), mailto, or a page of Haven itself.

    Anything else stays plain text, so a refused link reads as what was typed
    rather than as an empty link (the sanitizer checks again regardless).
    """
    url = url.strip().lower()
    if url.startswith(_LINK_SCHEMES):
        return True
    return (url.startswith("/") and not url.startswith(("//", "/\\"))) or url.startswith("#")


_md = (
    MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True, "typographer": False})
    .disable(["image", "heading", "lheading", "table", "html_block", "html_inline", "reference"],
             ignoreInvalid=True)
    .enable(["linkify", "strikethrough"], ignoreInvalid=True)
)
_md.validateLink = _link_allowed  # type: ignore[method-assign]


def render_post(source: str) -> str:
    """Markdown subset -> sanitized HTML."""
    return sanitize_html(_md.render(source))


def render_chat(text: str) -> str:
    """Plain text -> escaped HTML with clickable links."""
    return linkify_plain(text)

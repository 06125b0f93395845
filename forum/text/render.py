"""Turn member text into safe HTML, once, at write time.

Posts: a small Markdown subset (paragraphs, emphasis, lists, quotes, links, line
breaks) with raw HTML off, then the sanitizer. Chat: plain text with links.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

from forum.text.sanitize import linkify_plain, sanitize_html

_md = (
    MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True, "typographer": False})
    .disable(["image", "heading", "lheading", "table", "html_block", "html_inline", "reference"],
             ignoreInvalid=True)
    .enable(["linkify", "strikethrough"], ignoreInvalid=True)
)


def render_post(source: str) -> str:
    """Markdown subset -> sanitized HTML."""
    return sanitize_html(_md.render(source))


def render_chat(text: str) -> str:
    """Plain text -> escaped HTML with clickable links."""
    return linkify_plain(text)

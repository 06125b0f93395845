"""Chat lines: plain text, escaped completely, with only http(s) links made clickable.

Most chat lines carry no address and take a fast path that skips the HTML parser;
these tests hold both paths to the same promise: the reader sees exactly what was
typed, and the only markup is a link with Haven's rel attributes.
"""

from __future__ import annotations

import html
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forum.text.render import render_chat
from forum.text.sanitize import LINK_REL

ANCHOR = re.compile(r'<a href="(https?://[^"<>]+)" rel="' + re.escape(LINK_REL) + r'">([^<]*)</a>')

PIECES = st.sampled_from([
    "<", ">", "&", "&amp;", "&lt;", "\"", "'", " ", "\n", "<script>", "</a>", "<a href=x>", "onerror=",
    "javascript:", "https://", "http://", "example.org", "www.", ".com", "step 4", "90 days", "I'm here.",
    "x.y", "a-.org", "mailto:a@b.org", "ftp://x.org", "\u00e9", "\u202e",
])


def shown_text(rendered: str) -> str:
    """What a reader sees: links reduced to their text, entities decoded."""
    return html.unescape(ANCHOR.sub(lambda m: m.group(2), rendered))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PIECES, max_size=30).map("".join) | st.text(max_size=120))
def test_a_chat_line_shows_exactly_what_was_typed(text: str) -> None:
    rendered = render_chat(text)
    assert "<" not in ANCHOR.sub("", rendered), rendered  # no markup but our own links
    assert shown_text(rendered) == text


def test_plain_lines_and_lines_with_links() -> None:
    assert render_chat("Day 12. Still here & <hopeful>") == "Day 12. Still here &amp; &lt;hopeful&gt;"
    assert render_chat("read https://example.org/steps?a=1&b=2 first") == (
        'read <a href="https://example.org/steps?a=1&amp;b=2" rel="' + LINK_REL + '">'
        "https://example.org/steps?a=1&amp;b=2</a> first")
    assert 'href="http://www.example.org"' in render_chat("see www.example.org")
    for other in ("javascript:alert(1)", "ftp://files.example.org/x", "mailto:a@example.org", "data:text/html,x"):
        hrefs = re.findall(r'href="([^"]*)"', render_chat(other))
        assert all(h.startswith(("http://", "https://")) for h in hrefs), (other, hrefs)

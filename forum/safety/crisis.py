"""Crisis help lines, set by the operator in ``CRISIS_LINES``.

Format: one entry per help line, entries separated by ";" or new lines, each entry
``Country|What to tell the reader|link``:

    International|Find a helpline near you|https://findahelpline.com;
    United States|988 Suicide & Crisis Lifeline: call or text 988|tel:988;
    United States|Crisis Text Line: text HOME to 741741|sms:741741;
    United Kingdom|Samaritans: call 116 123|tel:116123

The link is optional and must start with https://, tel: or sms: (anything else is
shown as plain text, never as a link). Entries for the same country are shown
together under that country, countries in the order they first appear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import current_app

ALLOWED_LINKS = ("https://", "tel:", "sms:")
_SEPARATOR = re.compile(r"[;\n]")


@dataclass(frozen=True)
class CrisisLine:
    country: str
    text: str
    link: str = ""


@dataclass
class CrisisGroup:
    country: str
    lines: list[CrisisLine] = field(default_factory=list)


def parse_crisis_lines(raw: object) -> list[CrisisLine]:
    """Parse CRISIS_LINES (a string in the format above, or a list of such entries)."""
    entries = raw if isinstance(raw, list | tuple) else _SEPARATOR.split(str(raw or ""))
    lines = []
    for entry in entries:
        parts = [p.strip() for p in str(entry).split("|")]
        if len(parts) < 2 or not parts[0] or not parts[1]:
            continue
        link = parts[2] if len(parts) > 2 else ""
        if not link.startswith(ALLOWED_LINKS) or any(c.isspace() for c in link):
            link = ""
        lines.append(CrisisLine(parts[0], parts[1], link))
    return lines


def group_by_country(lines: list[CrisisLine]) -> list[CrisisGroup]:
    groups: dict[str, CrisisGroup] = {}
    for line in lines:
        groups.setdefault(line.country.casefold(), CrisisGroup(line.country)).lines.append(line)
    return list(groups.values())


def crisis_groups() -> list[CrisisGroup]:
    """The configured help lines, grouped by country (a template global)."""
    return group_by_country(parse_crisis_lines(current_app.config.get("CRISIS_LINES", "")))

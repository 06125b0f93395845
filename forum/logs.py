"""Logging that never records a client address, a pseudonym with content, or message text.

Three guards:

1. Nothing in Haven logs an address, a pseudonym or member text in the first place;
   log lines name the endpoint and what went wrong, nothing more.
2. Loggers that would (Werkzeug's and the servers' access logs put the client
   address first on every line; SQLAlchemy's engine logs every statement with its
   parameters, which are pseudonyms and message text) are pinned to WARNING, so
   even an operator who turns the root logger up to DEBUG does not switch them on.
3. Every log record, from any logger, has anything that looks like an IPv4 or IPv6
   address masked when it is created (a record factory), before any handler,
   formatter or test capture sees it.
4. A record's traceback is formatted at creation without the exceptions' messages
   (their types, files and lines stay): a message can carry anything, such as a
   database error quoting the pseudonym or the post it failed to store.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from flask import Flask

_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(
    r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![0-9A-Fa-f:])"  # full form
    r"|(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])"  # compressed (::1, fe80::...)
)
MASK = "[address]"

# Loggers that would write addresses, SQL parameters or request lines; kept at WARNING.
QUIET_LOGGERS = (
    "werkzeug", "engineio", "engineio.server", "socketio", "socketio.server", "geventwebsocket.handler",
    "gunicorn.access", "sqlalchemy", "sqlalchemy.engine", "sqlalchemy.engine.Engine", "sqlalchemy.pool",
    "sqlalchemy.orm", "urllib3", "alembic.runtime.migration",
)


def _looks_like_ipv6(match: str) -> bool:
    # "12:30:45" (a time) is not an address: an IPv6 address has a hex group longer than two
    # digits, a letter, or a "::".
    return "::" in match or any(len(g) > 2 or any(c.isalpha() for c in g) for g in match.split(":"))


def scrub(text: str) -> str:
    """``text`` with anything that looks like an IP address replaced by "[address]"."""
    text = _IPV4.sub(MASK, text)
    return _IPV6.sub(lambda m: MASK if _looks_like_ipv6(m.group(0)) else m.group(0), text)


class AddressFilter(logging.Filter):
    """Masks addresses in a record's message (a handler-level guard for handlers added later)."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub_record(record)
        return True


def _scrub_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - never let logging break a request
        return
    scrubbed = scrub(message)
    if scrubbed != message:
        record.msg, record.args = scrubbed, None
    if record.exc_info and record.exc_info[1] is not None:
        # Format the traceback now, without messages: every logging.Formatter prints this
        # exc_text instead of formatting the exception itself.
        record.exc_text = scrub(format_exception_withheld(record.exc_info[1]))
    elif record.exc_text:
        record.exc_text = scrub(record.exc_text)


WITHHELD = "(message withheld)"


def format_exception_withheld(exc: BaseException) -> str:
    """A traceback of ``exc`` and the exceptions chained to it: frames and types, no messages."""
    chain: list[traceback.TracebackException] = []
    current: traceback.TracebackException | None = traceback.TracebackException.from_exception(exc)
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    lines: list[str] = []
    for item in reversed(chain):
        lines.append("Traceback (most recent call last):\n")
        lines.extend(item.stack.format())
        exc_type = getattr(item, "exc_type", None)
        name = f"{exc_type.__module__}.{exc_type.__qualname__}" if exc_type else str(getattr(item, "exc_type_str", ""))
        lines.append(f"{name} {WITHHELD}\n")
    return "".join(lines).rstrip("\n")


_installed = False


def install_record_factory() -> None:
    """Mask addresses in every record at creation, whichever logger or handler it goes to."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _scrub_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def configure_logging(app: Flask) -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    install_record_factory()
    address_filter = AddressFilter()
    for handler in logging.getLogger().handlers:
        handler.addFilter(address_filter)
    app.logger.addFilter(address_filter)
    logging.getLogger("werkzeug").addFilter(address_filter)

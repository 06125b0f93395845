"""Logging that never records a client address, a pseudonym with content, or message text.

Werkzeug's and the servers' access logs put the client address first on every
line; Haven does not enable them. As a second guard, a filter masks anything that
looks like an IPv4 or IPv6 address in every record that passes Haven's handlers.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_IPV6 = re.compile(r"\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}\b|::1\b|::ffff:[0-9.]+")


def scrub(text: str) -> str:
    return _IPV6.sub("[address]", _IPV4.sub("[address]", text))


class AddressFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - never let logging break a request
            return True
        scrubbed = scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def configure_logging(app: Flask) -> None:
    for name in ("werkzeug", "engineio.server", "socketio.server", "geventwebsocket.handler"):
        logging.getLogger(name).setLevel(logging.WARNING)
    address_filter = AddressFilter()
    root = logging.getLogger()
    for handler in root.handlers:
        handler.addFilter(address_filter)
    app.logger.addFilter(address_filter)
    logging.getLogger("werkzeug").addFilter(address_filter)

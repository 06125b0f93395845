"""Client addresses, kept only as a keyed hash whose key rotates.

Rate limits need to recognise a repeat visitor for a while, never to know who they
are. The key is derived from SECRET_KEY and the current period
(``ADDRESS_HASH_ROTATION``, daily by default), so yesterday's hashes cannot be
linked to today's and no raw address is ever stored or logged. The hashes live only
in the limiter's counters, which expire within minutes.

Bans are of accounts, never of addresses: partners and the people they live with
often share one connection, and refusing a household's address because one member
of it was banned would lock out the partner, and tell them someone there was.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, request

from forum.db import utcnow


def _period_key() -> bytes:
    rotation = current_app.config["ADDRESS_HASH_ROTATION"].total_seconds()
    period = int(utcnow().timestamp() // rotation)
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"address-key:{period}".encode(), hashlib.sha256).digest()


def hash_address(address: str | None) -> str:
    """A short keyed hash of ``address`` for the current period."""
    return hmac.new(_period_key(), (address or "unknown").encode(), hashlib.sha256).hexdigest()[:32]


def client_key() -> str:
    """Rate-limit key for the current request: the hashed client address."""
    return hash_address(request.remote_addr)

"""The chat limit (CHAT_RATE_LIMIT, 5 messages in 10 seconds per member), checked in the send path.

Counted in the shared store when RATELIMIT_STORAGE_URI names one (Redis: one count across
processes, with ``limits``' sliding-window counter), and otherwise, or while that store is
unreachable, in this process by ``LocalWindows``.

``LocalWindows`` is the same sliding-window counter kept in a dict. ``limits``' own
in-memory storage is not used for it: it expires keys from a timer thread whose liveness it
checks on every hit, and under gevent that check yields to the event loop. On the chat path
that meant one trip around the loop per message, so the messages of a busy room reached
their listeners one wake-up per socket each instead of in batches (a greenlet trace of a
bench/chat_fanout.py burst: 61,384 writer wake-ups for 60,000 deliveries).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import current_app
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from forum.errors import RateLimited

_EXTENSION = "haven_chat_limiter"
# How long chat limits are counted in-process after the shared store failed, before trying it again.
SHARED_RETRY_SECONDS = 5.0
# Past this many keys, counters of windows that no longer count are dropped.
SWEEP_ABOVE = 4096


class LocalWindows:
    """Sliding-window counters in this process: a key's hits in the current fixed window, plus
    its previous window's weighted by how much of that window still overlaps the last
    ``period`` seconds (no double burst at a window's edge, constant work per hit)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int, int]] = {}  # key -> (window number, previous, current)
        self._lock = threading.Lock()

    def hit(self, limit: RateLimitItem, key: str, now: float | None = None) -> bool:
        """Count one hit of ``key`` against ``limit``; False (and nothing counted) when over it."""
        period = limit.get_expiry()
        window, into = divmod(time.time() if now is None else now, period)
        number = int(window)
        with self._lock:
            seen, previous, current = self._counts.get(key, (number, 0, 0))
            if seen != number:
                previous, current = (current if seen == number - 1 else 0), 0
            if previous * (period - into) / period + current + 1 > limit.amount:
                self._counts[key] = (number, previous, current)
                return False
            self._counts[key] = (number, previous, current + 1)
            if len(self._counts) > SWEEP_ABOVE:
                self._counts = {k: v for k, v in self._counts.items() if v[0] >= number - 1}
            return True


@dataclass
class _ChatLimiter:
    """The chat limit of one app: in the shared store (None: there is none), or in this process."""

    spec: str
    limit: RateLimitItem
    shared: SlidingWindowCounterRateLimiter | None
    local: LocalWindows = field(default_factory=LocalWindows)
    shared_down_until: float = 0.0


def _chat_limiter() -> _ChatLimiter:
    """One limiter per app, on RATELIMIT_STORAGE_URI (shared across processes when it is Redis)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    spec = app.config["CHAT_RATE_LIMIT"]
    limiter: _ChatLimiter | None = app.extensions.get(_EXTENSION)
    if limiter is None or limiter.spec != spec:
        uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
        shared = None
        if not uri.startswith("memory://"):
            prefix = app.config.get("RATELIMIT_KEY_PREFIX") or "haven"
            shared = SlidingWindowCounterRateLimiter(storage_from_string(uri, key_prefix=prefix))
        limiter = _ChatLimiter(spec, parse(spec), shared)
        app.extensions[_EXTENSION] = limiter
    return limiter


def check_rate(member_id: int) -> None:
    """Count one message of ``member_id`` against CHAT_RATE_LIMIT; RateLimited when over.

    While the shared store is unreachable, this process counts on its own for a few seconds
    at a time rather than refusing every message, as Flask-Limiter's in-memory fallback does
    for HTTP.
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    limiter = _chat_limiter()
    allowed = None
    if limiter.shared is not None and time.monotonic() >= limiter.shared_down_until:
        try:
            allowed = limiter.shared.hit(limiter.limit, "chat", str(member_id))
        except Exception as exc:  # noqa: BLE001 - any store failure: count locally, try the store again soon
            current_app.logger.warning("rate-limit store unreachable (%s); counting chat limits in this process",
                                       type(exc).__name__)
            limiter.shared_down_until = time.monotonic() + SHARED_RETRY_SECONDS
    if allowed is None:
        allowed = limiter.local.hit(limiter.limit, f"chat/{member_id}")
    if not allowed:
        raise RateLimited("You're sending messages a little fast. Please wait a few seconds and try again.")

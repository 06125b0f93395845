"""Haven's configuration classes.

Every setting can come from the environment; the README documents each one.
``create_app`` picks a class by ``HAVEN_ENV`` (development, production, test)
unless a config object or mapping is passed in.
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("HAVEN_INSTANCE_DIR", BASE_DIR / "instance"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _socketio_async_mode() -> str | None:
    """SOCKETIO_ASYNC_MODE if set; else "gevent" when the process runs monkey-patched by gevent
    (gunicorn's gevent worker patches before it loads the app); else None (threading)."""
    explicit = os.environ.get("SOCKETIO_ASYNC_MODE")
    if explicit:
        return explicit
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("socket"):
        return "gevent"
    return None


def _development_secret_key() -> str:
    """Generate a secret key once and keep it in ``instance/`` (development only).

    The file is created readable by its owner only, in one step, so no other user
    ever sees the key, and two processes starting together agree on one key.
    """
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it and start again to generate a new key.")
    return key


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'haven.db'}"
    SQL_ECHO = False

    # Socket.IO: a message queue (redis://...) lets several processes share live chat.
    SOCKETIO_MESSAGE_QUEUE = os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None
    SOCKETIO_ASYNC_MODE = _socketio_async_mode()
    # Origins allowed to open a socket; empty means "this site's own origin only".
    SOCKETIO_ALLOWED_ORIGINS = [
        o.strip() for o in os.environ.get("SOCKETIO_ALLOWED_ORIGINS", "").split(",") if o.strip()
    ]
    SOCKETIO_MAX_FRAME_BYTES = 64 * 1024
    # The message queue's pub/sub channel: sites (or test runs) sharing one Redis need their own.
    SOCKETIO_CHANNEL = os.environ.get("SOCKETIO_CHANNEL", "haven-socketio")

    # Rate limits (Flask-Limiter for HTTP, the same storage for socket events).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = False
    # While the shared store (Redis) is unreachable, each process counts HTTP limits itself
    # instead of failing the request (chat limits do the same, forum.chat.actions.check_rate).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Flask-Limiter switches to that fallback on the first failure; a request that raced the
    # switch (another greenlet flipped it meanwhile) is let through rather than answered 500.
    RATELIMIT_SWALLOW_ERRORS = True
    # Prefix of the limit counters in a shared store (Flask-Limiter and chat alike).
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "haven")
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per 5 minutes")
    SIGNUP_RATE_LIMIT = os.environ.get("SIGNUP_RATE_LIMIT", "5 per hour")
    RECOVERY_RATE_LIMIT = os.environ.get("RECOVERY_RATE_LIMIT", "5 per 15 minutes")
    CHAT_RATE_LIMIT = os.environ.get("CHAT_RATE_LIMIT", "5 per 10 seconds")
    POST_RATE_LIMIT = os.environ.get("POST_RATE_LIMIT", "10 per minute")
    PSEUDONYM_CHANGE_RATE_LIMIT = os.environ.get("PSEUDONYM_CHANGE_RATE_LIMIT", "2 per day")
    # Addresses are only ever kept as a keyed hash whose key rotates this often.
    ADDRESS_HASH_ROTATION = timedelta(hours=_env_int("ADDRESS_HASH_ROTATION_HOURS", 24))

    # Sessions are kept on the server; the cookie holds only an opaque random id.
    SESSION_IDLE_TIMEOUT = timedelta(minutes=_env_int("SESSION_IDLE_MINUTES", 30))
    SESSION_MAX_AGE = timedelta(hours=_env_int("SESSION_MAX_HOURS", 12))
    SESSION_COOKIE_NAME = "haven_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_ME_ENABLED = _env_bool("REMEMBER_ME_ENABLED", False)
    REMEMBER_COOKIE_DURATION = timedelta(days=_env_int("REMEMBER_DAYS", 14))
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    # Request limits: a message is at most 20,000 characters; forms stay far below this.
    MAX_CONTENT_LENGTH = 256 * 1024
    MAX_FORM_MEMORY_SIZE = 256 * 1024
    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the (server-side) session
    # Flask-WTF's HTTPS check demands a Referer header, which Haven's Referrer-Policy: no-referrer
    # means browsers never send; the per-session token and SameSite=Lax cookies are the defence.
    WTF_CSRF_SSL_STRICT = False

    # Argon2id cost; unset means argon2-cffi's recommended defaults.
    ARGON2_TIME_COST = _env_int("ARGON2_TIME_COST", 0) or None
    ARGON2_MEMORY_KIB = _env_int("ARGON2_MEMORY_KIB", 0) or None

    # Community rules.
    NEW_MEMBER_HELD_POSTS = _env_int("NEW_MEMBER_HELD_POSTS", 2)
    FLAGS_TO_HIDE = _env_int("FLAGS_TO_HIDE", 3)
    MODERATOR_REAUTH_HOURS = _env_int("MODERATOR_REAUTH_HOURS", 12)
    REQUIRE_MODERATOR_TOTP = _env_bool("REQUIRE_MODERATOR_TOTP", True)
    THREADS_PER_PAGE = 25
    POSTS_PER_PAGE = 100
    MAX_THREAD_DEPTH = 6
    CHAT_HISTORY = 50
    # Each process confirms its sockets' live_socket rows this often (seconds; 0 = off); rows
    # unconfirmed for three beats (a killed process) stop counting as present and are swept.
    CHAT_PRESENCE_HEARTBEAT = _env_int("CHAT_PRESENCE_HEARTBEAT", 30)

    # Safety.
    # Where the quick-exit button sends the visitor (an ordinary, neutral site).
    QUICK_EXIT_URL = os.environ.get("QUICK_EXIT_URL", "https://www.bbc.co.uk/weather")
    # Help lines on /crisis and in the box shown when screening notices crisis language:
    # "Country|What to tell the reader|link" entries separated by ";" or new lines; the link is
    # optional and must start with https://, tel: or sms:. Entries sharing a country are shown
    # together, countries in the order given (see forum/safety/crisis.py).
    CRISIS_LINES = os.environ.get(
        "CRISIS_LINES",
        "International|Find a helpline near you|https://findahelpline.com;"
        "United States|988 Suicide & Crisis Lifeline: call or text 988|tel:988;"
        "United Kingdom|Samaritans: call 116 123|tel:116123",
    )
    TRUST_PROXY_HOPS = _env_int("TRUST_PROXY_HOPS", 0)


class DevelopmentConfig(Config):
    ENV_NAME = "development"

    def __init__(self) -> None:
        if not self.SECRET_KEY:
            self.SECRET_KEY = _development_secret_key()
        # The default database lives in instance/, which a fresh checkout does not have yet.
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 - tests only
    DATABASE_URL = os.environ.get("DATABASE_URL") or "sqlite://"
    RATELIMIT_STORAGE_URI = "memory://"
    REQUIRE_MODERATOR_TOTP = False
    WTF_CSRF_ENABLED = False  # tests/test_security.py turns it back on to prove forms refuse without it
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_KIB = 8 * 1024
    CHAT_PRESENCE_HEARTBEAT = 0  # no background thread per test app; tests/chat drive the heartbeat directly


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-haven_session"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_NAME = "__Host-haven_remember"
    PREFERRED_URL_SCHEME = "https"

    def __init__(self) -> None:
        if not self.SECRET_KEY:
            raise RuntimeError("SECRET_KEY must be set in production (see README: Configuration).")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}


def load_config(name: str | None = None) -> Config:
    """Instantiate the configuration named by ``name`` or ``HAVEN_ENV``."""
    name = name or os.environ.get("HAVEN_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise RuntimeError(f"Unknown HAVEN_ENV {name!r}; use one of {sorted(CONFIGS)}") from None

"""Password and recovery-code hashing (Argon2id) and the common-password check."""

from __future__ import annotations

import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # Argon2id with argon2-cffi's current recommended parameters
# A dummy hash verified when a pseudonym is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def configure(time_cost: int | None = None, memory_kib: int | None = None) -> None:
    """Set Argon2id's cost (from config). Stored hashes with other parameters are upgraded at log-in."""
    global _hasher, _DUMMY_HASH
    defaults = PasswordHasher()
    _hasher = PasswordHasher(time_cost=time_cost or defaults.time_cost,
                             memory_cost=memory_kib or defaults.memory_cost,
                             parallelism=defaults.parallelism)
    _DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256

# Words that, padded with digits or symbols, make up most leaked passwords of 10+ characters.
_COMMON_BASES = frozenset("""
password passw0rd pass qwerty qwertyuiop asdfgh asdfghjkl zxcvbnm iloveyou letmein welcome
monkey dragon football baseball basketball soccer hockey sunshine princess trustno1 superman
batman starwars michael shadow master jennifer jordan hunter freedom whatever computer internet
secret changeme default admin administrator login abc abcdef abcdefghij qazwsx qwe
azerty hello charlie daniel thomas jessica ashley andrew matthew summer winter spring autumn
flower lovely loveme mylove iloveu fuckyou killer pepper cheese cookie chocolate butterfly
haven recovery partner sobriety
""".split())

_STRONG_BASES = ("password", "qwerty", "iloveyou", "letmein", "welcome", "trustno1", "abc123")

_COMMON_EXACT = frozenset("""
1234567890 0123456789 0987654321 9876543210 1111111111 0000000000 1q2w3e4r5t 1qaz2wsx3edc
qwertyuiop asdfghjkl; 1234qwer!@#$ q1w2e3r4t5 zaq12wsx passwordpassword 12345678910
123123123123 abc1234567 11223344556677 a1b2c3d4e5 qwerty123456 iloveyou123 password1234
""".split())

_PADDING = re.compile(r"^[\W\d_]*(?P<core>.*?)[\W\d_]*$")


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    """Check ``secret`` against ``stored_hash``; with no hash, spend the same time and fail."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, secret) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def is_common_password(password: str, pseudonym: str | None = None) -> bool:
    """True for well-known passwords, a base word padded with digits, repeats and runs."""
    lowered = password.lower()
    if lowered in _COMMON_EXACT or len(set(lowered)) <= 2:
        return True
    core = (_PADDING.match(lowered) or _PADDING.match("")).group("core")  # type: ignore[union-attr]
    core = core.translate(str.maketrans("0134@$5", "oieaass"))
    if core in _COMMON_BASES or not core:
        return True
    if any(base in core and len(core) - len(base) <= 3 for base in _STRONG_BASES):
        return True
    if len(core) >= 2 and core * (len(lowered) // len(core) + 1) == core * 2 and lowered.count(core) > 1:
        return True
    if pseudonym and pseudonym.lower().replace(" ", "") in lowered.replace(" ", ""):
        return True
    return _is_run(lowered)


def _is_run(text: str) -> bool:
    """A keyboard-free check for straight runs like "abcdefghijk" or "9876543210"."""
    if len(text) < 2:
        return False
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return steps in ({1}, {-1}, {0})


def new_recovery_code() -> str:
    """A one-time recovery code, shown once: five groups of five unambiguous characters."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(25))
    return "-".join(raw[i:i + 5] for i in range(0, 25, 5))


def normalize_recovery_code(code: str) -> str:
    raw = re.sub(r"[^A-Za-z0-9]", "", code).upper()
    return "-".join(raw[i:i + 5] for i in range(0, len(raw), 5))

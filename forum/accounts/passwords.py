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
password pass passwd qwerty qwertyuiop asdfgh asdfghjkl zxcvbnm iloveyou iloveu loveyou letmein welcome
monkey dragon football baseball basketball soccer hockey sunshine princess trustno superman batman
spiderman starwars shadow master michael jennifer jordan hunter freedom whatever computer internet
secret changeme default admin administrator login abc abcd abcdef abcdefg abcdefgh abcdefghij qwe asd
zxc qazwsx qweasd azerty hello world charlie daniel thomas jessica ashley andrew matthew summer winter
spring autumn flower lovely loveme mylove fuckyou killer pepper cheese cookie chocolate butterfly baby
babygirl angel blessed jesus liverpool chelsea arsenal samsung google pokemon naruto minecraft
fortnite mustang ferrari harley access ninja tigger purple orange banana buster ginger maggie family
forever friends nicole hannah london america canada australia kitty hellokitty secure security
myspace facebook instagram iloveyoubaby unknown test tester testing haven recovery partner sobriety
sober addict addiction porn manchester united barcelona madrid elizabeth michelle joshua anthony robert
william samantha amanda melissa heather jasmine justin taylor brandon george ranger tiger lucky silver
golden diamond crystal rainbow dolphin monster thunder please
""".split())

# Base words that stay guessable with up to three letters around them ("mypassword", "letmeinnow").
_STRONG_BASES = ("password", "qwerty", "iloveyou", "letmein", "welcome", "trustno", "abc")

_COMMON_EXACT = frozenset("""
1234567890 0123456789 0987654321 9876543210 12345678910 1234567890a 123456789a a123456789
1q2w3e4r5t 1q2w3e4r5t6y q1w2e3r4t5 1qaz2wsx3edc zaq12wsx 123qweasdzxc qweasdzxc123 qwerty12345
qwerty123456 abc1234567 abcd123456 asdf123456 a1b2c3d4e5 aa12345678 x123456789 987654321a
passwordpassword password1234 iloveyou123 princess123 football123 baseball123 sunshine123
welcome123 letmein123 starwars123 superman123 monkey12345 dragon12345 charlie123 michael123
computer123 123123123123 11223344556677 1234qwer!@#$ asdfghjkl;
""".split())

# Keyboard rows and columns, the alphabet and common grid patterns; each also read backwards.
_WALKS = tuple(w for walk in (
    "1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "qazwsxedcrfvtgbyhnujmikolp",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7ki8lo9p0", "1q2w3e4r5t6y7u8i9o0p", "q1w2e3r4t5y6u7i8o9p0",
    "qweasdzxc", "1234qwerasdfzxcv", "!@#$%^&*()",
) for w in (walk, walk[::-1]))

_PADDING = re.compile(r"^[\W\d_]*(?P<core>.*?)[\W\d_]*$", re.DOTALL)
_LEET = str.maketrans("0134@$5!7", "oieaassit")


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


def is_common_password(password: str) -> bool:
    """True for well-known passwords and the patterns they are made of.

    Catches a common word padded with digits or symbols ("Summer2024!", "p@ssw0rd1"),
    two common words run together, keyboard and alphabet walks ("qwerty123456",
    "1qaz2wsx3edc"), repeats ("abcabcabcabc"), and passwords of digits and symbols only.
    """
    lowered = password.lower()
    compact = re.sub(r"\s+", "", lowered)
    if lowered in _COMMON_EXACT or compact in _COMMON_EXACT or len(set(compact)) <= 3:
        return True
    if _is_repeat(compact) or _is_keyboard_walk(compact):
        return True
    match = _PADDING.match(lowered)
    core = match.group("core") if match else lowered
    letters = "".join(ch for ch in core.translate(_LEET) if ch.isalpha())
    if len(letters) <= 3:
        return True  # digits and symbols with at most three letters: a PIN, a date, a phone number
    if letters in _COMMON_BASES or _two_bases(letters) or _is_keyboard_walk(core):
        return True  # ..., or a walk padded with digits ("qazwsxedc1")
    return any(base in letters and len(letters) - len(base) <= 3 for base in _STRONG_BASES)


def contains_pseudonym(password: str, pseudonym: str | None) -> bool:
    """Whether the password contains the (public) pseudonym, ignoring case and separators."""
    if not pseudonym:
        return False
    name = re.sub(r"[\s_\-]+", "", pseudonym.casefold())
    return len(name) >= 4 and name in re.sub(r"[\s_\-]+", "", password.casefold())


def _two_bases(letters: str) -> bool:
    return any(letters[:i] in _COMMON_BASES and letters[i:] in _COMMON_BASES
               for i in range(3, len(letters) - 2))


def _is_repeat(text: str) -> bool:
    """The same short unit written again and again ("abcabcabc", "passwordpassword")."""
    n = len(text)
    return any(n % size == 0 and text[:size] * (n // size) == text for size in range(1, n // 2 + 1))


def _is_keyboard_walk(text: str, max_pieces: int = 3) -> bool:
    """True when ``text`` is at most three pieces (three or more characters each) of a walk."""
    if len(text) > 40:
        return False
    pieces = {0: 0}  # position -> fewest pieces needed to reach it
    for start in range(len(text)):
        if start not in pieces or pieces[start] >= max_pieces:
            continue
        for end in range(start + 3, len(text) + 1):
            if not any(text[start:end] in walk for walk in _WALKS):
                break
            if pieces.get(end, max_pieces + 1) > pieces[start] + 1:
                pieces[end] = pieces[start] + 1
    return len(text) in pieces


def new_recovery_code() -> str:
    """A one-time recovery code, shown once: five groups of five unambiguous characters."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(25))
    return "-".join(raw[i:i + 5] for i in range(0, 25, 5))


def normalize_recovery_code(code: str) -> str:
    raw = re.sub(r"[^A-Za-z0-9]", "", code).upper()
    return "-".join(raw[i:i + 5] for i in range(0, len(raw), 5))

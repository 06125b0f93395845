"""Account writes: register, authenticate, change or reset a password.

Each takes the caller's SQLAlchemy session and never commits; the request
commits. Validation failures raise ActionError with every field's problem.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.accounts.models import Member, MemberPath, Role, new_auth_token
from forum.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    contains_pseudonym,
    hash_secret,
    is_common_password,
    needs_rehash,
    new_recovery_code,
    normalize_recovery_code,
    verify_secret,
)
from forum.accounts.pseudonyms import (
    HURTFUL_NAME,
    TAKEN,
    normalize_pseudonym,
    pseudonym_key,
    pseudonym_problem,
    suggest_pseudonym,
)
from forum.accounts.pseudonyms import MAX_LENGTH as MAX_PSEUDONYM_LENGTH
from forum.errors import ActionError
from forum.live import close_member_sockets
from forum.sessions import end_member_sessions
from forum.text.clean import clean_text

LOGIN_FAILED = "That pseudonym and password don't match our records."


def access_member_by_pseudonym(session: Session, pseudonym: str) -> Member | None:
    """The member with this pseudonym (ignoring case and separators), or None.

    Text that can't be a pseudonym (too long, control characters such as NUL, which
    PostgreSQL refuses in a query) matches nobody without asking the database.
    """
    key = pseudonym_key(pseudonym)
    if len(key) > MAX_PSEUDONYM_LENGTH or any(ord(ch) < 32 or ch == "\x7f" for ch in key):
        return None
    return session.scalar(select(Member).where(Member.pseudonym_key == key))


def _password_problem(password: object, pseudonym: str | None) -> str | None:
    if not isinstance(password, str) or not password:
        return "Please choose a password."
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"A password needs at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"A password can be at most {MAX_PASSWORD_LENGTH} characters."
    if "\x00" in password:
        return "A password can't contain invisible control characters."
    if "\ufffd" in password:
        # What a browser sends for bytes that weren't text: the member typed something else.
        return "Your password contains characters we couldn't read. Please retype it."
    if contains_pseudonym(password, pseudonym):
        return "Please don't use your pseudonym in your password: everyone can see it."
    if is_common_password(password):
        return "That password is one of the most common ones, so it is easy to guess. Please choose another."
    return None


def check_pseudonym(session: Session, raw: object, *, field: str = "pseudonym",
                    exclude_member_id: int | None = None) -> str:
    """Validate a new pseudonym (format, identifying look, staff look, watched words, taken) and
    return it normalized.

    Raises ActionError on ``field`` with the one message that best explains the problem.
    """
    text = clean_text(raw, field=field, label="Pseudonym", max_length=100_000, multiline=False)
    pseudonym = normalize_pseudonym(text)
    problem = pseudonym_problem(pseudonym)
    if problem:
        raise ActionError(problem, field=field)
    from forum.moderation.pipeline import watched_terms_in

    if watched_terms_in(session, pseudonym):
        raise ActionError(HURTFUL_NAME, field=field)
    existing = access_member_by_pseudonym(session, pseudonym)
    if existing is not None and existing.id != exclude_member_id:
        raise ActionError(TAKEN, field=field)
    return pseudonym


def suggest_free_pseudonym(session: Session, attempts: int = 8) -> str:
    """A suggested pseudonym that no member has yet (or, very rarely, the last one tried)."""
    name = suggest_pseudonym()
    for _ in range(attempts):
        if access_member_by_pseudonym(session, name) is None:
            return name
        name = suggest_pseudonym()
    return name


def do_register(session: Session, *, pseudonym: object, password: object, path: object,
                accepted_guidelines: bool, role: str = Role.MEMBER) -> tuple[Member, str]:
    """Create a member; returns it and the one-time recovery code (only its hash is kept).

    Raises ActionError with a message per field for every problem found, all at once.
    """
    errors: dict[str, str] = {}
    name = ""
    try:
        name = check_pseudonym(session, pseudonym)
    except ActionError as exc:
        errors.update(exc.fields)
    problem = _password_problem(password, name or (pseudonym if isinstance(pseudonym, str) else None))
    if problem:
        errors["password"] = problem
    if path not in (MemberPath.PARTNER.value, MemberPath.RECOVERY.value):
        errors["path"] = "Please choose whether you are a partner or in recovery."
    if not accepted_guidelines:
        errors["guidelines"] = "Please read and accept the community guidelines to join."
    if errors:
        raise ActionError("Please check the highlighted fields.", fields=errors)
    password, path = str(password), str(path)
    code = new_recovery_code()
    member = Member(pseudonym=name, pseudonym_key=pseudonym_key(name), password_hash=hash_secret(password),
                    recovery_code_hash=hash_secret(code), path=path, role=role)
    session.add(member)
    session.flush()
    return member, code


def authenticate(session: Session, pseudonym: object, password: object) -> Member:
    """Return the member whose pseudonym and password match, or raise the one shared error.

    An unknown pseudonym and a wrong password cost the same hash verification and
    answer with the same message, so neither reveals whether a pseudonym exists.
    """
    if not isinstance(pseudonym, str) or not isinstance(password, str) or len(pseudonym) > 64 \
            or len(password) > MAX_PASSWORD_LENGTH:
        verify_secret(None, "x")
        raise ActionError(LOGIN_FAILED, status=401, code="login_failed")
    member = access_member_by_pseudonym(session, pseudonym.strip())
    ok = verify_secret(member.password_hash if member else None, password)
    if member is None or not ok:
        raise ActionError(LOGIN_FAILED, status=401, code="login_failed")
    if not member.is_active:
        raise ActionError("This account has been closed by the moderators.", status=403, code="banned")
    if needs_rehash(member.password_hash):
        member.password_hash = hash_secret(password)
    return member


def _end_everything(session: Session, member: Member) -> None:
    member.auth_token = new_auth_token()
    end_member_sessions(session, member.id)
    close_member_sockets(session, member.id)


def do_change_password(session: Session, member: Member, *, current: object, new: object) -> None:
    """Change ``member``'s password after checking the current one; ends every session and socket."""
    if not isinstance(current, str) or not verify_secret(member.password_hash, current):
        raise ActionError("Your current password isn't right.", field="current_password")
    problem = _password_problem(new, member.pseudonym)
    if problem:
        raise ActionError(problem, field="new_password")
    member.password_hash = hash_secret(str(new))
    _end_everything(session, member)


def do_reset_with_code(session: Session, *, pseudonym: object, code: object, new: object) -> tuple[Member, str]:
    """Reset a password with the recovery code; the code is used up and a new one returned."""
    failed = ActionError("That pseudonym and recovery code don't match our records.", status=401,
                         code="recovery_failed")
    if not isinstance(pseudonym, str) or not isinstance(code, str) or len(code) > 64 or len(pseudonym) > 64:
        verify_secret(None, "x")
        raise failed
    member = access_member_by_pseudonym(session, pseudonym.strip())
    ok = verify_secret(member.recovery_code_hash if member else None, normalize_recovery_code(code))
    if member is None or not ok:
        raise failed
    problem = _password_problem(new, member.pseudonym)
    if problem:
        raise ActionError(problem, field="new_password")
    new_code = new_recovery_code()
    member.password_hash = hash_secret(str(new))
    member.recovery_code_hash = hash_secret(new_code)
    _end_everything(session, member)
    return member, new_code

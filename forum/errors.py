"""Errors that actions raise and boundaries turn into a clear answer.

``ActionError`` carries a message a member can read, an HTTP status, and per-field
messages, so a form can show every problem at once and a socket ack can say why.
"""

from __future__ import annotations


class ActionError(Exception):
    status = 400

    def __init__(self, message: str, *, field: str | None = None,
                 fields: dict[str, str] | None = None, status: int | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        if field:
            self.fields.setdefault(field, message)
        if status is not None:
            self.status = status
        self.code = code or "invalid"

    def to_ack(self) -> dict[str, object]:
        return {"ok": False, "error": self.message, "code": self.code, "fields": self.fields}


class NotFound(ActionError):
    """Unknown, or not visible to this member: the two look the same from outside."""

    status = 404

    def __init__(self, message: str = "We couldn't find that.") -> None:
        super().__init__(message, code="not_found")


class Forbidden(ActionError):
    status = 403

    def __init__(self, message: str, code: str = "forbidden") -> None:
        super().__init__(message, code=code)


class RateLimited(ActionError):
    status = 429

    def __init__(self, message: str = "You're going a little fast. Please wait a moment and try again.") -> None:
        super().__init__(message, code="rate_limited")

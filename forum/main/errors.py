"""Error pages: every error answers with a clear page (or JSON), the usual headers, never a stack trace."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from forum.db import db
from forum.errors import ActionError

MESSAGES = {
    400: "Something in that request didn't make sense to us. Please go back and try again.",
    403: "You don't have access to that.",
    404: "We couldn't find that page.",
    405: "That isn't something this page can do.",
    413: "That was too large for us to accept. Please shorten it and try again.",
    429: "You're going a little fast. Please wait a moment and try again.",
    500: "Something went wrong on our side. Nothing you did caused it; please try again.",
    503: "Haven is briefly unavailable. Please try again in a moment.",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json")


CSRF_MESSAGE = ("This form has expired or was sent from somewhere else. "
                "Please reload the page and try again.")


def error_response(status: int, message: str | None = None):  # type: ignore[no-untyped-def]
    message = message or MESSAGES.get(status, MESSAGES[400])
    if _wants_json():
        return jsonify({"ok": False, "error": message}), status
    try:
        return render_template("errors/error.html", status=status, message=message), status
    except Exception:  # noqa: BLE001 - e.g. the database is down while the page looks up the member
        # A bare page, still with every security header (they are added after this) and the
        # quick exit (button, Escape three times), which needs nothing but static files.
        exit_url = escape(current_app.config.get("QUICK_EXIT_URL", ""))
        return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<meta name=\"quick-exit\" content=\"{exit_url}\"><title>Haven</title>"
                f"<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">"
                f"<link rel=\"stylesheet\" href=\"/static/css/haven.css\">"
                f"<link rel=\"stylesheet\" href=\"/static/css/safety.css\">"
                f"<script src=\"/static/js/quick-exit.js\"></script></head>"
                f"<body><a id=\"quick-exit\" class=\"quick-exit\" href=\"{exit_url}\" rel=\"noreferrer\">"
                f"Quick exit</a><main><h1>Haven</h1><p>{escape(message)}</p></main></body></html>"), status


def _service_briefly_away(exc: BaseException) -> bool:
    """Whether ``exc`` means the database or Redis is away for now (a restart, a full pool): 503, not 500."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    if isinstance(exc, OperationalError | InterfaceError | PoolTimeoutError | RedisConnectionError | RedisTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def register_error_handlers(app: Flask) -> None:
    @app.before_request
    def _session_store_down():  # type: ignore[no-untyped-def]
        """A member whose session can't be read during an outage is told so, not sent to log in."""
        if getattr(session, "unavailable", False) and request.endpoint not in ("main.healthz", "static"):
            return error_response(503)
        return None

    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError):  # type: ignore[no-untyped-def]
        if getattr(session, "unavailable", False):
            # The token lives in the session, which could not be read: say so (try again), not "expired".
            return error_response(503)
        if request.endpoint == "accounts.logout" and not current_user.is_authenticated:
            # Logging out after the session already ended (its token with it): nothing to protect.
            from forum.accounts.routes import logged_out_response

            return logged_out_response()
        return error_response(400, CSRF_MESSAGE)

    @app.errorhandler(ActionError)
    def _action(exc: ActionError):  # type: ignore[no-untyped-def]
        db.session.rollback()
        return error_response(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        return error_response(status, MESSAGES.get(status) or exc.description)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("unhandled error on %s %s", request.method, request.endpoint)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001
            app.logger.warning("rollback failed after an error")
        if _service_briefly_away(exc):
            return error_response(503)
        return error_response(500)

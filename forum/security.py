"""Response headers every response carries: CSP, no referrer, no sniffing, no indexing, no caching.

The headers are added in an ``after_request`` hook, which Flask also runs for the
responses of error handlers (400, 404, 405, 413, 429, 500, 503), so no kind of
page goes without them. Responses that never reach Flask (the Socket.IO transport
under ``/socket.io/``, answered by python-engineio's WSGI middleware) get the same
headers from a WSGI wrapper around the whole app.

Nothing here looks at the member: a page is never cached, whoever asks for it, so
a shared computer's history and cache keep nothing of Haven (only the static
files, which are the same for everyone, may be cached).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Request, Response, current_app, g, request, session
from flask_wtf.csrf import generate_csrf

from forum.errors import ActionError
from forum.text.clean import urlencoded_is_utf8

# Scripts and styles only from Haven's own files: no inline code, no eval, no other origin.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'none'",
    "object-src 'none'",
    "frame-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


class EveryResponseHeaders:
    """WSGI wrapper adding ``headers`` to any response that lacks them.

    Flask's own responses already carry every one (see ``_headers`` below), so in
    practice this fills in the Socket.IO transport's answers, which bypass Flask.
    """

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], headers: list[tuple[str, str]]) -> None:
        self.wsgi_app = wsgi_app
        self.headers = headers

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in response_headers}
            missing = [(name, value) for name, value in self.headers if name.lower() not in present]
            return start_response(status, [*response_headers, *missing], exc_info)

        return self.wsgi_app(environ, start)


def register_security_headers(app: Flask) -> None:
    """Add the headers to every response, and refuse unreadable form bodies on every route
    (``register_input_guards``). Call after every other WSGI wrapper (Socket.IO's
    included) is in place, so that this one is outermost."""
    secure = bool(app.config.get("SESSION_COOKIE_SECURE"))
    fallback = [*HEADERS.items(), ("Cache-Control", "no-store")]
    if secure:
        fallback.append(("Strict-Transport-Security", "max-age=31536000"))
    app.wsgi_app = EveryResponseHeaders(app.wsgi_app, fallback)  # type: ignore[method-assign]

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.update(HEADERS)
        if secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if request.endpoint == "static" and response.status_code < 400:
            response.headers.setdefault("Cache-Control", "public, max-age=3600")
        else:
            response.headers["Cache-Control"] = "no-store"
        return response

    register_input_guards(app)


UNREADABLE = ("Some of what you sent isn't readable text (it wasn't valid UTF-8), so nothing was posted. "
              "Please go back, retype it and send it again.")
URLENCODED = "application/x-www-form-urlencoded"


class HavenRequest(Request):
    """Flask's request, noting whether a urlencoded body was valid UTF-8 before parsing it.

    The check has to see the raw body, and the body can be read only once: whoever
    first touches ``request.form`` (CSRF protection, usually) parses it, so the check
    sits in the parsing itself. The bytes are cached for the parser that follows.
    """

    unreadable_form = False

    def _load_form_data(self) -> None:
        if "form" not in self.__dict__ and self.mimetype == URLENCODED:
            self.unreadable_form = not urlencoded_is_utf8(self.get_data(cache=True))
        super()._load_form_data()


def register_input_guards(app: Flask) -> None:
    """Refuse, on every route, a form body that isn't UTF-8 (400 with a clear message, nothing written)."""
    app.request_class = HavenRequest

    @app.before_request
    def _refuse_unreadable_form() -> None:
        if request.mimetype != URLENCODED:
            return
        request.form  # noqa: B018 - parsing (if nothing did yet) is what runs the check
        if getattr(request, "unreadable_form", False):
            raise ActionError(UNREADABLE, code="unreadable")


class _SignedTokens:
    """The CSRF tokens this process signed in the current second, by the session's raw token."""

    def __init__(self) -> None:
        self._current: tuple[int, dict[str, str]] = (-1, {})

    def get(self, raw: str, second: int) -> str | None:
        current, tokens = self._current
        return tokens.get(raw) if current == second else None

    def put(self, raw: str, second: int, token: str) -> None:
        current, tokens = self._current
        if current != second:
            tokens = {}
            self._current = (second, tokens)  # last second's tokens go with the old dict
        tokens[raw] = token


def csrf_token() -> str:
    """Flask-WTF's signed CSRF token for this request (``generate_csrf``), signed at most once a
    second per session and process.

    itsdangerous signs the session's token together with the second it signs it in, so two
    signings within one second give the same string: this hands back that string instead of
    signing again (about 55 µs, a tenth of a bare page). Validation is Flask-WTF's, unchanged.
    """
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field in g:
        return str(g.get(field))
    raw = session.get(field)
    if not isinstance(raw, str):
        return str(generate_csrf())  # makes the session's token
    signed: _SignedTokens = current_app.extensions.setdefault("haven_signed_csrf", _SignedTokens())
    second = int(time.time())
    token = signed.get(raw, second)
    if token is None:
        token = str(generate_csrf())
        signed.put(raw, second, token)
    else:
        setattr(g, field, token)
    return token

"""Response headers every response carries: CSP, no referrer, no sniffing, no indexing, no caching.

The headers are added in an ``after_request`` hook, which Flask also runs for the
responses of error handlers (400, 404, 405, 413, 429, 500, 503), so no kind of
page goes without them. Nothing here looks at the member: a page is never cached,
whoever asks for it, so a shared computer's history and cache keep nothing of Haven
(only the static files, which are the same for everyone, may be cached).
"""

from __future__ import annotations

from flask import Flask, Response, request

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


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.update(HEADERS)
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if request.endpoint == "static" and response.status_code < 400:
            response.headers.setdefault("Cache-Control", "public, max-age=3600")
        else:
            response.headers["Cache-Control"] = "no-store"
        return response

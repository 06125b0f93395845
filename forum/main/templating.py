"""Template globals and filters: permission predicates, dates, the quick-exit address."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, request, url_for
from flask_login import current_user

from forum import permissions
from forum.db import as_utc, utcnow


def when(value: datetime | None) -> str:
    """A relative time ("3 minutes ago"); the exact time is in the <time> element's datetime."""
    value = as_utc(value)
    if value is None:
        return ""
    seconds = int((utcnow() - value).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((86400 * 365, "year"), (86400 * 30, "month"), (86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def iso(value: datetime | None) -> str:
    value = as_utc(value)
    return value.isoformat() if value else ""


_FIXED_URLS: dict[tuple[str, str, tuple[tuple[str, str], ...]], str] = {}


def fixed_url(endpoint: str, **values: str) -> str:
    """``url_for`` for the links that are the same on every page (static files, the menu, the footer).

    Every page has about fifteen of them and building each costs more than the query of a
    small page, so each is built once per site root and remembered. Only for fixed
    arguments: links carrying an id go through ``url_for``.
    """
    key = (request.script_root, endpoint, tuple(sorted(values.items())))
    url = _FIXED_URLS.get(key)
    if url is None:
        url = url_for(endpoint, **values)  # type: ignore[arg-type]
        if len(_FIXED_URLS) < 1024:
            _FIXED_URLS[key] = url
    return url


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["iso"] = iso
    app.jinja_env.globals["perm"] = permissions
    app.jinja_env.globals["fixed_url"] = fixed_url
    from forum.rooms.fragments import csrf_token

    # Flask-WTF's token, or a mark while a page is kept for many readers (see there). Flask-WTF
    # offers its own both as a global (what imported macros see) and through a context
    # processor (what templates see); both are replaced, the latter by the one below.
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.context_processor
    def _globals() -> dict[str, object]:
        return {
            "quick_exit_url": current_app.config["QUICK_EXIT_URL"],
            "csrf_token": csrf_token,
            "me": current_user,
        }

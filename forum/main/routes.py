"""Public pages: landing, guidelines, safety help, crisis resources, health check."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from forum.db import db

bp = Blueprint("main", __name__)


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for("rooms.index"))
    return render_template("main/index.html")


@bp.get("/guidelines")
def guidelines():  # type: ignore[no-untyped-def]
    return render_template("main/guidelines.html")


@bp.get("/safe-browsing")
def safe_browsing():  # type: ignore[no-untyped-def]
    return render_template("main/safe_browsing.html")


@bp.get("/crisis")
def crisis():  # type: ignore[no-untyped-def]
    return render_template("main/crisis.html", lines=crisis_lines())


def crisis_lines() -> list[dict[str, str]]:
    """Help lines from CRISIS_LINES: "Country|What|link" entries separated by ";"."""
    lines = []
    for entry in str(current_app.config.get("CRISIS_LINES", "")).split(";"):
        parts = [p.strip() for p in entry.split("|")]
        if len(parts) >= 2 and parts[0]:
            link = parts[2] if len(parts) > 2 else ""
            if not link.startswith(("https://", "tel:", "sms:")):
                link = ""
            lines.append({"country": parts[0], "text": parts[1], "link": link})
    return lines


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        current_app.logger.warning("health check: database unreachable")
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}

"""The ceiling for bench/pages.py: a bare Flask page that runs one query and renders a tiny template.

The template is compiled once, as Flask's template loader would keep it (render_template_string
would compile it on every request and make the ceiling lower than a bare page really is).
"""

from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import text

from forum.db import make_engine

app = Flask(__name__)
engine = make_engine(os.environ["DATABASE_URL"])
PAGE = app.jinja_env.from_string(
    "<!doctype html><title>bare</title><ul>{% for r in rooms %}<li>{{ r.name }}</li>{% endfor %}</ul>")


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/")
def page() -> str:
    with engine.connect() as conn:
        rooms = conn.execute(text("SELECT name FROM room ORDER BY position")).all()
    return PAGE.render(rooms=rooms)

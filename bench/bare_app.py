"""The ceiling for bench/pages.py: a bare Flask page that runs one query and renders a tiny template."""

from __future__ import annotations

import os

from flask import Flask, render_template_string
from sqlalchemy import text

from forum.db import make_engine

app = Flask(__name__)
engine = make_engine(os.environ["DATABASE_URL"])
PAGE = "<!doctype html><title>bare</title><ul>{% for r in rooms %}<li>{{ r.name }}</li>{% endfor %}</ul>"


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/")
def page() -> str:
    with engine.connect() as conn:
        rooms = conn.execute(text("SELECT name FROM room ORDER BY position")).all()
    return render_template_string(PAGE, rooms=rooms)

"""Page speed: requests/s and p50/p99 for the room index, a room page and a 200-post nested thread.

Each page is served by one gunicorn worker process and driven by wrk over loopback, on SQLite and
(when reachable) PostgreSQL, and compared in the same run with a bare Flask page doing one query
(the ceiling). Run: ``.venv/bin/python bench/pages.py [--seconds 5] [--db sqlite|postgresql|both]``.
Target: the thread page at >= 40% of the ceiling's requests per second.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _data, _harness  # noqa: E402
from forum.db import make_engine  # noqa: E402

SECRET = "bench-secret-key"  # noqa: S105 - a throwaway key for a local benchmark


def build(url: str) -> tuple[int, str]:
    """Schema, rooms, 30 threads in one room and one 200-post nested thread; returns (thread id, room slug)."""
    from forum import create_app
    from forum.cli import seed
    from forum.db import db

    engine = make_engine(url)
    _data.create_schema(engine)
    app = create_app({"HAVEN_ENV": "test", "DATABASE_URL": url})
    with app.app_context():
        seed(db.session)
        db.session.commit()
        from forum.accounts.actions import do_register

        do_register(db.session, pseudonym="Bench Reader", password="bench password 123", path="partner",
                    accepted_guidelines=True)
        db.session.commit()
    authors = _data.members(engine, 20)
    _data.fill(engine, threads=29, posts_per_thread=5, author_ids=authors, audience="partner")
    (thread_id,) = _data.fill(engine, threads=1, posts_per_thread=200, author_ids=authors, audience="partner",
                              seed=11)
    with engine.connect() as conn:
        from sqlalchemy import text

        slug = conn.execute(text("SELECT r.slug FROM room r JOIN thread t ON t.room_id = r.id WHERE t.id = :t"),
                            {"t": thread_id}).scalar_one()
    engine.dispose()
    return thread_id, slug


def run(db_name: str, url: str, seconds: int) -> list[tuple[str, dict[str, float]]]:
    thread_id, slug = build(url)
    env = {"DATABASE_URL": url, "SECRET_KEY": SECRET, "HAVEN_ENV": "development", "RATELIMIT_ENABLED": "false",
           "SESSION_IDLE_MINUTES": "600"}
    results = []
    with _harness.gunicorn("bench.bare_app:app", env) as base:
        results.append(("ceiling: bare Flask, one query", _harness.wrk(base + "/", None, seconds)))
    with _harness.gunicorn("wsgi:app", env) as base:
        cookie = _harness.login_cookie(base, "Bench Reader", "bench password 123")
        for label, path in (("room index /rooms", "/rooms"), (f"room page /rooms/{slug}", f"/rooms/{slug}"),
                            (f"thread, 200 nested posts /threads/{thread_id}", f"/threads/{thread_id}?page=1")):
            results.append((label, _harness.wrk(base + path, cookie, seconds)))
    print(f"\n{db_name}: one gunicorn sync worker, wrk -t2 -c8 -d{seconds}s")
    ceiling = results[0][1]["rps"]
    print(f"{'page':48} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs ceiling':>11}")
    for label, r in results:
        print(f"{label:48} {r['rps']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f} {r['errors']:7.0f} {r['rps'] / ceiling:10.0%}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    with ExitStack() as stack:
        if args.db in ("sqlite", "both"):
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            run("SQLite", f"sqlite:///{os.path.join(tmp, 'bench.db')}", args.seconds)
        if args.db in ("postgresql", "both"):
            try:
                url = stack.enter_context(_harness.postgres_database())
            except Exception as exc:  # noqa: BLE001 - PostgreSQL is optional for this benchmark
                print(f"\nPostgreSQL not reachable ({exc.__class__.__name__}); skipped")
            else:
                run("PostgreSQL", url, args.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Page speed: requests/s and p50/p99 for the room index, a room page and a 200-post nested thread.

Each page is served by one gunicorn worker process and driven by wrk over loopback, on SQLite and
PostgreSQL (a fresh database the run creates and drops), and compared in the same run with a bare
Flask page doing one query (the ceiling, bench/bare_app.py). The pages are measured in rounds,
ceiling and Haven's pages one after the other in each round, so a machine that gets busier half
way hits both; the medians over the rounds are reported.

Run: ``.venv/bin/python bench/pages.py [--seconds 4] [--rounds 3] [--db sqlite|postgresql|both]``.
Target: the thread page at >= 40% of the ceiling's requests per second.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, select, text  # noqa: E402

from bench import _data, _harness  # noqa: E402
from forum.db import make_engine  # noqa: E402
from forum.models import Base  # noqa: E402

SECRET = "bench-secret-key"  # noqa: S105 - a throwaway key for a local benchmark
READER, PASSWORD = "Bench Reader", "bench password 123"
THREAD_POSTS = 200
TARGET = 0.40


def build(url: str) -> tuple[int, str]:
    """Schema, rooms, 29 small threads and one of 200 nested posts in one room; returns (thread id, room slug).

    The big thread nests no deeper than Haven shows on the thread page (MAX_THREAD_DEPTH), so
    all 200 posts are on the one page measured.
    """
    app = _data.seeded_app(url, [(READER, PASSWORD, "member")])
    engine = make_engine(url)
    depth = int(app.config["MAX_THREAD_DEPTH"])
    authors = _data.members(engine, 20)
    _data.fill(engine, threads=29, posts_per_thread=5, author_ids=authors, audience="partner")
    (thread_id,) = _data.fill(engine, threads=1, posts_per_thread=THREAD_POSTS, author_ids=authors,
                              audience="partner", seed=11, max_depth=depth)
    with engine.connect() as conn:
        slug = conn.execute(text("SELECT r.slug FROM room r JOIN thread t ON t.room_id = r.id WHERE t.id = :t"),
                            {"t": thread_id}).scalar_one()
    engine.dispose()
    return thread_id, slug


def fingerprint(engine: Engine) -> tuple[dict[str, str], list[tuple[str, object]]]:
    """A digest of every table but the session store, and the sessions' last-seen times."""
    digests: dict[str, str] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name == "web_session":
                continue
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
        seen = conn.execute(text("SELECT id_hash, last_seen_at FROM web_session ORDER BY id_hash")).all()
    return digests, [tuple(row) for row in seen]


def check_pages(base: str, cookie: str, paths: list[str], thread_path: str) -> None:
    """Every measured page answers 200, and the thread page really shows its 200 posts."""
    for path in paths:
        response = requests.get(base + path, headers={"Cookie": cookie}, timeout=10, allow_redirects=False)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        if path == thread_path:
            shown = len(re.findall(r'<li class="post-item">', response.text))
            if shown != THREAD_POSTS:
                raise SystemExit(f"the thread page shows {shown} posts, not {THREAD_POSTS}")


def run(db_name: str, url: str, seconds: int, rounds: int, worker: str) -> dict[str, dict[str, float]]:
    thread_id, slug = build(url)
    env = {"DATABASE_URL": url, "SECRET_KEY": SECRET, "HAVEN_ENV": "development", "RATELIMIT_ENABLED": "false",
           "SESSION_IDLE_MINUTES": "600"}
    load_before = os.getloadavg()
    thread_path = f"/threads/{thread_id}"
    with _harness.gunicorn("bench.bare_app:app", env, worker) as bare, \
            _harness.gunicorn("bench.haven_app:app", env, worker) as haven:
        cookie = _harness.login_cookie(haven.base, READER, PASSWORD)
        targets = [("ceiling: bare Flask, one query", bare, "/", None),
                   ("room index /rooms", haven, "/rooms", cookie),
                   (f"room page /rooms/{slug}", haven, f"/rooms/{slug}", cookie),
                   (f"thread, {THREAD_POSTS} nested posts {thread_path}", haven, thread_path, cookie)]
        check_pages(haven.base, cookie, ["/rooms", f"/rooms/{slug}", thread_path], thread_path)
        engine = make_engine(url)
        before = fingerprint(engine)
        for _label, server, path, target_cookie in targets:  # warm up: caches, connections, imports
            _harness.wrk(server.base + path, target_cookie, 1)
        measured: dict[str, list[dict[str, float]]] = {label: [] for label, *_ in targets}
        for _ in range(rounds):
            for label, server, path, target_cookie in targets:
                cpu = server.cpu_seconds()
                result = _harness.wrk(server.base + path, target_cookie, seconds)
                result["cpu_ms"] = (server.cpu_seconds() - cpu) * 1000 / max(result["requests"], 1)
                measured[label].append(result)
        after = fingerprint(engine)
        engine.dispose()
    load_after = os.getloadavg()
    changed = [name for name, digest in before[0].items() if after[0][name] != digest]
    touches = sum(1 for old, new in zip(before[1], after[1], strict=False) if old != new)

    print(f"\n{db_name}: one gunicorn {worker} worker per server, wrk -t2 -c8, {rounds} rounds of {seconds}s; "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print(f"{'page':44} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'vs ceiling':>10} "
          f"{'CPU ms/req':>10} {'ceiling/CPU':>11}  rounds (req/s)")
    summary: dict[str, dict[str, float]] = {}
    for label, results in measured.items():
        middle = sorted(results, key=lambda r: r["rps"])[len(results) // 2]
        cpu_ms = statistics.median(r["cpu_ms"] for r in results)
        summary[label] = {**middle, "cpu_ms": cpu_ms, "errors": sum(r["errors"] for r in results)}
    ceiling = summary[targets[0][0]]
    for label, r in summary.items():
        each = ", ".join(f"{x['rps']:.0f}" for x in measured[label])
        print(f"{label:44} {r['rps']:7.0f} {r['p50']:7.2f} {r['p99']:7.2f} {r['errors']:6.0f} "
              f"{r['rps'] / ceiling['rps']:10.0%} {r['cpu_ms']:10.2f} {ceiling['cpu_ms'] / r['cpu_ms']:11.0%}  {each}")
    thread_label = targets[-1][0]
    per_round = [t["rps"] / c["rps"] for t, c in zip(measured[thread_label], measured[targets[0][0]], strict=True)]
    ratio = summary[thread_label]["rps"] / ceiling["rps"]
    print(f"thread page / ceiling: {ratio:.0%} of the requests per second (per round "
          f"{', '.join(f'{x:.0%}' for x in per_round)}), {ceiling['cpu_ms'] / summary[thread_label]['cpu_ms']:.0%} "
          f"by server CPU per request; target >= {TARGET:.0%}: {'met' if ratio >= TARGET else 'MISSED'}")
    print(f"writes while serving the GETs: {'none' if not changed else 'tables changed: ' + ', '.join(changed)}; "
          f"session last-seen touches: {touches} (at most one a minute is allowed)")
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=4, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per page (the median is kept)")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--worker", choices=["sync", "gevent"], default="sync", help="gunicorn worker class")
    args = parser.parse_args()
    if not _harness.have_wrk():
        print("wrk not found (apt-get install wrk): falling back to a one-connection Python client, "
              "whose own cost caps every figure")
    with ExitStack() as stack:
        if args.db in ("sqlite", "both"):
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            run("SQLite", f"sqlite:///{os.path.join(tmp, 'bench.db')}", args.seconds, args.rounds, args.worker)
        if args.db in ("postgresql", "both"):
            url = stack.enter_context(_harness.postgres_database())
            run("PostgreSQL", url, args.seconds, args.rounds, args.worker)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

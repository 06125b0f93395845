"""Configuration as an operator meets it: each process started with a real environment.

config.py reads the environment when it is imported, so every case runs in a
fresh interpreter (``flask --app wsgi ...`` or a short script), as Haven would.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from forum.db import make_engine
from forum.rooms.actions import DEFAULT_ROOMS
from forum.rooms.models import Room

ROOT = Path(__file__).resolve().parents[1]
# What a script prints about the app it builds: its database URL and driver, SQLite's pragmas.
PROBE = """
import json
from sqlalchemy import text
from forum import create_app
from forum.db import db
app = create_app()
with app.app_context():
    engine = db.require_engine()
    report = {"url": app.config["DATABASE_URL"], "driver": engine.url.drivername, "env": app.config["ENV_NAME"],
              "secret_key": app.config["SECRET_KEY"]}
    if engine.url.drivername.startswith("sqlite"):
        with engine.connect() as conn:
            report["journal_mode"] = conn.execute(text("PRAGMA journal_mode")).scalar()
            report["foreign_keys"] = conn.execute(text("PRAGMA foreign_keys")).scalar()
print(json.dumps(report))
"""


def environment(tmp_path: Path, **values: str) -> dict[str, str]:
    """A clean environment: none of Haven's settings leak in from the test run's own."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "SECRET_KEY", "HAVEN_ENV", "HAVEN_INSTANCE_DIR"}}
    return {**env, "HAVEN_INSTANCE_DIR": str(tmp_path / "instance"), **values}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def probe(env: dict[str, str]) -> dict[str, object]:
    done = run([sys.executable, "-c", PROBE], env)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "flask", "--app", "wsgi", *args], env)


def test_development_defaults_sqlite_under_instance_and_a_secret_key_made_once(tmp_path: Path) -> None:
    env = environment(tmp_path, HAVEN_ENV="development")
    key_file = tmp_path / "instance" / "secret_key"
    assert not key_file.exists()
    first = probe(env)
    assert first["url"] == f"sqlite:///{tmp_path / 'instance' / 'haven.db'}"
    assert first["journal_mode"] == "wal" and first["foreign_keys"] == 1
    key = str(first["secret_key"])
    assert len(key) >= 40 and key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # nobody else on the machine can read it
    assert probe(env)["secret_key"] == key  # the next start uses the same key
    # A key from the environment wins, and nothing is written for it.
    other = environment(tmp_path / "other", HAVEN_ENV="development", SECRET_KEY="from-the-environment")
    assert probe(other)["secret_key"] == "from-the-environment"
    assert not (tmp_path / "other" / "instance" / "secret_key").exists()


def test_a_fresh_checkout_with_a_secret_key_can_still_migrate(tmp_path: Path) -> None:
    """instance/ may not exist yet even when SECRET_KEY is given: it is created for the database."""
    env = environment(tmp_path, HAVEN_ENV="development", SECRET_KEY="given-by-the-operator")
    done = flask(env, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "instance" / "haven.db").exists()


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = environment(tmp_path, HAVEN_ENV="production", DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}")
    done = flask(env, "seed")
    assert done.returncode != 0
    assert "SECRET_KEY must be set in production" in done.stderr
    assert not (tmp_path / "instance" / "secret_key").exists()  # and none is made up for it


@pytest.mark.parametrize("haven_env", ["development", "test", "production"])
def test_database_url_is_honoured_in_every_configuration(tmp_path: Path, haven_env: str) -> None:
    url = f"sqlite:///{tmp_path / f'{haven_env}.db'}"
    env = environment(tmp_path, HAVEN_ENV=haven_env, DATABASE_URL=url, SECRET_KEY="x" * 48)
    report = probe(env)
    assert (report["url"], report["env"], report["journal_mode"], report["foreign_keys"]) == (url, haven_env, "wal", 1)
    if haven_env == "production":
        # The command line (migrations, default rooms) uses the same database.
        for args in (("db", "upgrade"), ("seed",)):
            done = flask(env, *args)
            assert done.returncode == 0, done.stderr
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(Room)).scalar() == len(DEFAULT_ROOMS)
        engine.dispose()


def test_postgresql_urls_go_through_psycopg_3() -> None:
    for spelling in ("postgresql", "postgres"):
        engine = make_engine(f"{spelling}://haven@127.0.0.1:1/haven")  # nothing connects yet
        assert engine.url.drivername == "postgresql+psycopg"
        engine.dispose()


# The README's configuration table, against what the code reads ------------------------------

_READS = re.compile(r'(?:os\.environ\.get|_env_int|_env_bool)\(\s*"([A-Z][A-Z0-9_]+)"(?:\s*,\s*([^)]+))?\)')


def settings_read() -> dict[str, str | None]:
    """Every environment variable Haven's code reads, with its default as written in the source."""
    found: dict[str, str | None] = {}
    for path in [ROOT / "config.py", ROOT / "wsgi.py", *sorted((ROOT / "forum").rglob("*.py"))]:
        for name, default in _READS.findall(path.read_text()):
            found.setdefault(name, default.strip() or None)
    return found


def settings_documented() -> dict[str, str]:
    """README's configuration table: each setting named in the first column, with its default cell."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0])
        defaults = [d.strip() for d in cells[1].split(",")]
        for i, name in enumerate(names):
            rows[name] = defaults[i] if len(defaults) == len(names) else cells[1]
    return rows


def test_readme_documents_every_setting_and_only_real_ones() -> None:
    read, documented = settings_read(), settings_documented()
    assert len(read) >= 25
    assert sorted(set(read) - set(documented)) == [], "settings the README's table does not mention"
    assert sorted(set(documented) - set(read)) == [], "settings the README documents but nothing reads"


def test_readme_defaults_match_the_code() -> None:
    read, documented = settings_read(), settings_documented()
    compared = 0
    for name, cell in documented.items():
        default = read.get(name)
        if default is None:
            continue
        if default in ("True", "False"):
            assert cell == ("on" if default == "True" else "off"), (name, cell)
        elif re.fullmatch(r"`[^`]+`", cell) and re.fullmatch(r'"[^"]*"|\d+', default):
            assert cell.strip("`") == default.strip('"'), (name, cell, default)
        else:
            continue
        compared += 1
    assert compared >= 15

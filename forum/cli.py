"""Command-line tasks: migrations, default rooms, moderator accounts.

    flask --app wsgi db upgrade            apply migrations (creates the database)
    flask --app wsgi seed                  create default rooms and the starter watched words
    flask --app wsgi create-moderator NAME prompt for a password (or read it from stdin)
    flask --app wsgi set-role NAME ROLE    grant or revoke: member | moderator | admin
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app
from flask.cli import AppGroup

from forum.db import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", current_app.config["DATABASE_URL"].replace("%", "%%"))
    return cfg


def run_migrations(revision: str = "head") -> None:
    """Upgrade the app's database to ``revision`` using the app's own engine."""
    cfg = alembic_config()
    with db.require_engine().begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


db_cli = AppGroup("db", help="Database migrations (Alembic).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    run_migrations(revision)
    click.echo(f"database upgraded to {revision}")


@db_cli.command("downgrade")
@click.argument("revision", default="-1")
def db_downgrade(revision: str) -> None:
    cfg = alembic_config()
    with db.require_engine().begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)
    click.echo(f"database downgraded to {revision}")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models."""
    cfg = alembic_config()
    with db.require_engine().begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=message, autogenerate=True)


def seed(session: object) -> dict[str, int]:
    """Create what a fresh Haven needs (idempotent): default rooms and starter watched words."""
    from forum.moderation.words import do_seed_starter_terms
    from forum.rooms.actions import do_ensure_default_rooms

    rooms = do_ensure_default_rooms(db.session)
    words = do_seed_starter_terms(db.session)
    return {"rooms": rooms, "watched_words": words}


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\n")


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_cli)

    @app.cli.command("seed")
    def seed_command() -> None:
        """Create the default rooms and starter watched words that are missing."""
        counts = seed(db.session)
        db.session.commit()
        click.echo(f"created {counts['rooms']} rooms and {counts['watched_words']} watched words")

    @app.cli.command("create-moderator")
    @click.argument("pseudonym")
    @click.option("--path", type=click.Choice(["partner", "recovery"]), default="recovery",
                  help="Moderators see every room; the path only labels their own posts.")
    @click.option("--admin", is_flag=True, help="Also let them grant and revoke the moderator role.")
    def create_moderator(pseudonym: str, path: str, admin: bool) -> None:
        """Create a moderator account (password prompted, or read from standard input)."""
        from forum.accounts.actions import do_register
        from forum.errors import ActionError

        password = _read_password("Password")
        try:
            member, code = do_register(db.session, pseudonym=pseudonym, password=password, path=path,
                                       accepted_guidelines=True, role="admin" if admin else "moderator")
            db.session.commit()
        except ActionError as exc:
            db.session.rollback()
            for message in exc.fields.values() or [exc.message]:
                click.echo(f"error: {message}", err=True)
            raise SystemExit(1) from None
        click.echo(f"created {'admin' if admin else 'moderator'} {member.pseudonym}")
        click.echo(f"recovery code (shown once): {code}")

    @app.cli.command("set-role")
    @click.argument("pseudonym")
    @click.argument("role", type=click.Choice(["member", "moderator", "admin"]))
    def set_role(pseudonym: str, role: str) -> None:
        """Grant or revoke the moderator (or admin) role."""
        from forum.accounts.actions import access_member_by_pseudonym
        from forum.moderation.roles import do_set_role

        member = access_member_by_pseudonym(db.session, pseudonym)
        if member is None:
            click.echo("error: no member with that pseudonym", err=True)
            raise SystemExit(1)
        do_set_role(db.session, None, member, role)
        db.session.commit()
        click.echo(f"{member.pseudonym} is now {role}")

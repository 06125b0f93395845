"""Haven: an anonymous peer-support forum. ``create_app`` builds the application."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from config import Config, load_config


def create_app(config: Config | Mapping[str, Any] | str | None = None) -> Flask:
    """Build a Haven app.

    ``config`` may be a config object, an environment name ("test", ...), or a
    mapping of overrides applied on top of the environment's configuration.
    """
    app = Flask(__name__, instance_relative_config=False)
    if isinstance(config, Config):
        app.config.from_object(config)
    elif isinstance(config, str):
        app.config.from_object(load_config(config))
    else:
        overrides = dict(config or {})
        app.config.from_object(load_config(overrides.pop("HAVEN_ENV", None)))
        app.config.update(overrides)

    register_logging(app)
    register_proxy(app)
    register_database(app)
    register_sessions(app)
    register_extensions(app)
    register_blueprints(app)
    register_socket_events(app)
    register_errors(app)
    register_templates(app)
    register_cli(app)
    return app


def register_logging(app: Flask) -> None:
    from forum.logs import configure_logging

    configure_logging(app)


def register_proxy(app: Flask) -> None:
    hops = app.config.get("TRUST_PROXY_HOPS", 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def register_database(app: Flask) -> None:
    from forum.db import db

    db.init_app(app)


def register_sessions(app: Flask) -> None:
    from forum.sessions import ServerSessionInterface

    app.session_interface = ServerSessionInterface()


def register_extensions(app: Flask) -> None:
    from forum import events
    from forum.accounts import passwords
    from forum.accounts.auth import init_login
    from forum.extensions import csrf, limiter, socketio
    from forum.security import register_security_headers

    passwords.configure(app.config.get("ARGON2_TIME_COST"), app.config.get("ARGON2_MEMORY_KIB"))
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)
    init_login(app)
    origins = app.config.get("SOCKETIO_ALLOWED_ORIGINS") or None  # None: this site's own origin only
    socketio.init_app(
        app,
        message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE"),
        channel=app.config.get("SOCKETIO_CHANNEL", "flask-socketio"),
        # One event at a time per socket: a member's messages are stored in the order sent.
        async_handlers=False,
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE") or "threading",
        cors_allowed_origins=origins,
        manage_session=False,  # sockets read the same server-side session as HTTP (forum.chat.events)
        max_http_buffer_size=app.config["SOCKETIO_MAX_FRAME_BYTES"],
        logger=False,
        engineio_logger=False,
    )
    from forum.transport import TransportGuard

    app.wsgi_app = TransportGuard(app.wsgi_app, app.config["SOCKETIO_MAX_FRAME_BYTES"])  # type: ignore[method-assign]
    events.bind(lambda ev: socketio.emit(ev.name, ev.payload, to=ev.to, namespace=ev.namespace,
                                          skip_sid=list(ev.skip) or None))
    register_security_headers(app)


def register_blueprints(app: Flask) -> None:
    from forum.accounts.routes import bp as accounts_bp
    from forum.main.routes import bp as main_bp
    from forum.rooms.routes import bp as rooms_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(rooms_bp)
    from forum.safety.routes import bp as safety_bp

    app.register_blueprint(safety_bp)
    from forum.moderation.routes import bp as moderation_bp

    app.register_blueprint(moderation_bp)


def register_socket_events(app: Flask) -> None:
    from forum.chat import events as chat_events

    chat_events.register(app)


def register_errors(app: Flask) -> None:
    from forum.main.errors import register_error_handlers

    register_error_handlers(app)


def register_templates(app: Flask) -> None:
    from forum.main.templating import register_template_helpers

    register_template_helpers(app)


def register_cli(app: Flask) -> None:
    from forum.cli import register_commands

    register_commands(app)

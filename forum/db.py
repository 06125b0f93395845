"""Database plumbing: engine, the request-scoped session, and the declarative base.

The session is opened lazily on first use within an app context (``db.session``)
and closed on teardown, as in Flask's tutorial app. Functions that touch data take
a session argument; only boundaries (a request, a socket event, a CLI command)
commit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from flask import Flask, g, has_request_context, request
from sqlalchemy import ColumnElement, Connection, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapper, Session, class_mapper, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.util import identity_key
from sqlalchemy.pool import StaticPool

_T = TypeVar("_T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware (UTC). Used as every timestamp default."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


class HavenSession(Session):
    """Session class whose commit hooks deliver queued side effects (see forum.events)."""


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; treat them as the UTC they were stored in."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create the engine for ``url``: SQLite with WAL and foreign keys, or PostgreSQL via psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.update(pool_size=10, max_overflow=20, pool_timeout=10)
    if url.startswith("postgresql"):
        # A statement stuck on a broken server fails instead of hanging the request.
        kwargs["connect_args"] = {"connect_timeout": 5, "options": "-c statement_timeout=15000"}
    engine = create_engine(url, **kwargs)
    _ping_idle_connections(engine)
    return engine


# A pooled connection that has been idle this long is checked before it is handed out.
PING_AFTER_IDLE = 1.0


def _ping_idle_connections(engine: Engine) -> None:
    """The pool's pre-ping, for connections that have been idle (``PING_AFTER_IDLE`` seconds).

    A connection the server dropped (a restart, an idle timeout) is found and replaced before
    a request gets it, as ``pool_pre_ping`` would do. One given back moments ago is handed out
    without the ping: under load that was one round trip of a page's five on PostgreSQL. A
    server restart within that moment fails the statement instead; the request answers 503
    (forum.main.errors) and SQLAlchemy drops every connection made before it.
    """

    @event.listens_for(engine, "checkin")
    def _given_back(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["haven_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("haven_idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return  # new, or given back a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the database dropped this connection") from exc


class RowLoader(Generic[_T]):
    """Objects of mapped class ``cls`` from rows of ``columns`` of its table (primary key
    included) read by a Core statement, attached to a session as if it had loaded them.

    The object a query would give (persistent, unmodified, lazy loads and flushes as usual)
    for about a third of what the ORM's row loading costs: for the row read on every request.
    """

    def __init__(self, cls: type[_T], columns: Sequence[ColumnElement[Any]]) -> None:
        mapper: Mapper[_T] = class_mapper(cls)
        self.cls = cls
        self.columns = tuple(columns)
        self.keys = tuple(mapper.get_property_by_column(column).key for column in self.columns)
        self._manager = mapper.class_manager
        self._pk_at = tuple(self.position(column) for column in mapper.primary_key)

    def position(self, column: ColumnElement[Any]) -> int:
        """Where ``column`` is in the rows."""
        return next(i for i, c in enumerate(self.columns) if c is column)

    def attach(self, session: Session, values: Sequence[Any]) -> _T:
        """The object for row ``values``: the one ``session`` holds already, or a new one added to it."""
        held = session.identity_map.get(identity_key(self.cls, tuple(values[i] for i in self._pk_at)))
        if held is not None:
            return held  # type: ignore[no-any-return]
        instance: _T = self._manager.new_instance()
        instance_state(instance).dict.update(zip(self.keys, values, strict=True))
        make_transient_to_detached(instance)
        session.add(instance)
        return instance


def unattached(cls: type[_T], **values: Any) -> _T:
    """A transient object of mapped class ``cls`` holding ``values``, made without the ORM's
    attribute events: for a row just written by a Core statement that is then only read
    (about a quarter of the constructor's cost). Relationships may be given as objects."""
    instance: _T = class_mapper(cls).class_manager.new_instance()
    instance_state(instance).dict.update(values)
    return instance


_REQUIRED = object()  # a parameter the caller must give


class DriverStatement:
    """A Core statement that returns rows, run straight on the driver's cursor of a connection:
    for the few statements every chat line and every page runs.

    SQLAlchemy's execution layer (a compiled-cache lookup, parameter processing, an
    execution context, result wrapping) costs ~25 us a statement, more than SQLite takes
    to run one. Here the statement is compiled once per dialect, and its parameters and
    result columns go through the same type processors Core would apply, so the rows
    stored and read are the same. A driver error is handled by Core's own handler
    (wrapped as SQLAlchemy's error; a lost connection invalidates the pool). While
    anything listens to the engine's cursor events, or SQL echo is on, statements run
    through Core instead, so statement counts and logs still see them.
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._forms: dict[str, _Form] = {}

    def _form(self, dialect: Any) -> _Form:
        form = self._forms.get(dialect.name)
        if form is None:
            compiled = self.statement.compile(dialect=dialect)
            names = compiled.positiontup if compiled.positional else list(compiled.binds)
            binds = tuple((name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect),
                           _REQUIRED if compiled.binds[name].required else compiled.binds[name].effective_value)
                          for name in names)
            columns = getattr(self.statement, "exported_columns", None) or ()
            results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
            form = self._forms[dialect.name] = _Form(compiled.string, compiled.positional, binds,
                                                     results if any(results) else None)
        return form

    def rows(self, connection: Connection, params: dict[str, Any]) -> Sequence[Any]:
        """Run the statement with ``params`` on ``connection`` (in its transaction) and return its rows."""
        dispatch = connection.dispatch
        if dispatch.before_cursor_execute or dispatch.after_cursor_execute or connection.engine.echo:
            return connection.execute(self.statement, params).all()
        form = self._form(connection.dialect)
        values = []
        for name, process, default in form.binds:
            value = params[name] if default is _REQUIRED else params.get(name, default)
            values.append(value if process is None or value is None else process(value))
        driver_params: Any = (tuple(values) if form.positional
                              else dict(zip((b[0] for b in form.binds), values, strict=True)))
        cursor = None
        try:
            cursor = connection.connection.cursor()
            cursor.execute(form.sql, driver_params)
            rows = cursor.fetchall()
            cursor.close()
        except connection.dialect.loaded_dbapi.Error as exc:
            # Core's own handling (private, stable across 2.0): wrap, and on a lost connection
            # invalidate it and every pooled connection made before it.
            connection._handle_dbapi_exception(exc, form.sql, driver_params, cursor, None)
            raise  # not reached: the call above raises
        if form.results is None:
            return rows
        return [tuple(v if p is None or v is None else p(v) for p, v in zip(form.results, row, strict=True))
                for row in rows]


@dataclass(frozen=True)
class _Form:
    """A DriverStatement as one dialect runs it."""

    sql: str
    positional: bool
    binds: tuple[tuple[str, Any, Any], ...]  # name, bind processor, default (_REQUIRED: must be given)
    results: tuple[Any, ...] | None  # a result processor per column (None: rows as the driver gives them)


class ReadOnlyRequest(RuntimeError):
    """A page (a GET request) wrote through its session, which only reads (see ``Database.session``)."""


def _refuse_writes(_conn: Any, _cursor: Any, _statement: str, _parameters: Any, context: Any,
                   _executemany: bool) -> None:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        raise ReadOnlyRequest("a page wrote through its read-only session: write in a session of its own "
                              "(db.new_session()) and commit it there")


class Database:
    """Holds the engine and session factories for one app; see ``session``."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.factory: sessionmaker[HavenSession] | None = None
        self.reader: sessionmaker[HavenSession] | None = None

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"], app.config.get("SQL_ECHO", False))
        self.factory = sessionmaker(self.engine, class_=HavenSession, expire_on_commit=False)
        self.reader = None
        if self.engine.dialect.name == "postgresql":
            reading = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            event.listen(reading, "before_cursor_execute", _refuse_writes)
            self.reader = sessionmaker(reading, class_=HavenSession, expire_on_commit=False)
        app.extensions["haven_db"] = self
        app.teardown_appcontext(self._close)

    @property
    def session(self) -> HavenSession:
        """The session of the current app context, opened on first use.

        On PostgreSQL a page (a GET or HEAD request, not a socket event) reads without a
        transaction: under READ COMMITTED each statement sees the database as of its own start
        either way, and BEGIN and ROLLBACK were two of a thread page's four round trips. Such a
        session refuses to write (``ReadOnlyRequest``); a page that writes when it is opened
        does so in a session of its own (``new_session``), committed there.
        """
        if "db_session" not in g:
            g.db_session = self.reader() if self.reader is not None and _reads_only() else self.new_session()
        session: HavenSession = g.db_session
        return session

    def new_session(self) -> HavenSession:
        """A session outside the request's transaction (session store, background work)."""
        if self.factory is None:
            raise RuntimeError("db.init_app was not called")
        return self.factory()

    def require_engine(self) -> Engine:
        """The app's engine (raises if ``init_app`` has not run)."""
        if self.engine is None:
            raise RuntimeError("db.init_app was not called")
        return self.engine

    def _close(self, _exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()


def _reads_only() -> bool:
    """Whether this context is a page request (GET or HEAD), which writes nothing through ``db.session``."""
    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return False
    path = request.path  # socket events run in a context made from the socket's own GET
    return not (path == "/socket.io" or path.startswith("/socket.io/"))

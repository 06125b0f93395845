"""Hostile input on every HTTP route: arbitrary Unicode, huge and malformed fields, wrong
content types, raw bytes, odd ids and slugs, with and without the CSRF token, from
visitors, members of both audiences, moderators and admins.

Routes come from ``app.url_map``, so a route added later is attacked too (a URL argument
this file cannot fill fails the test). For every request: never a 5xx, never a marker
echoed as markup (also on the page a success redirects to, and on every page that shows
stored text afterwards), a refused request writes nothing, and every stored row is whole.
"""

from __future__ import annotations

import io
import itertools
import re
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule

from forum.db import db
from forum.rooms.models import Post, Room, Thread
from tests.hostile.conftest import (
    ANY_VALUE,
    KINDS,
    MARKERS,
    TEXT,
    Caller,
    World,
    assert_consistent,
    assert_sane,
    bounded,
)
from tests.rooms.conftest import snapshot

# Requests that end, start or change a session (or the account) run on a caller of their own.
SESSION_ENDPOINTS = {"accounts.login", "accounts.logout", "accounts.signup", "accounts.recover",
                     "accounts.change_password", "safety.quick_exit", "safety.delete_account",
                     "safety.change_pseudonym"}
_ARGUMENT = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\([^)]*\))?:)?(?P<name>[a-z_]+)>")
_FIELD = re.compile(r'(?:form|args|values)\.get\(\s*"([a-z_]+)"')
_counter = itertools.count(1)


def field_names() -> list[str]:
    """Every form and query field any route reads, straight from the source (so new ones join)."""
    from pathlib import Path

    names: set[str] = {"csrf_token"}
    for source in (Path(__file__).resolve().parents[2] / "forum").rglob("*.py"):
        names.update(_FIELD.findall(source.read_text()))
    return sorted(names)


FIELDS = field_names()


def baseline(endpoint: str, who: Caller, world: World) -> dict[str, str]:
    """Plausible values for every field, so that hostile ones reach the action behind the checks."""
    n = next(_counter)
    account = who.account
    existing = endpoint in ("accounts.login", "accounts.recover")
    return {
        "title": "A quiet evening", "body": "Thank you all for being here.", "content_warning": "",
        "confirmed": "yes", "reason": "spam", "item_type": "post", "item_id": str(world.ids["post_id"][1]),
        "note": "Please have a look.", "hours": "24", "text": "A gentler version.", "phrase": f"grumpy walrus {n}",
        "action": "hold", "pseudonym": account.pseudonym if existing and account else f"Bright Fern {n}",
        "password": account.password if account else "a long and careful passphrase 9",
        "current_password": account.password if account else "", "new_password": "another careful passphrase 5",
        "recovery_code": account.recovery_code if account else "", "path": "partner", "guidelines": "yes",
        "posts": "keep", "code": "000000", "next": "/rooms", "return_to": "/moderation", "submit_key": f"key-{n:08d}",
    }


def path_values(rule: Rule, world: World) -> st.SearchStrategy[dict[str, str]]:
    """Real ids and slugs most of the time; otherwise out of range, not numbers, or junk."""
    parts: dict[str, st.SearchStrategy[str]] = {}
    for match in _ARGUMENT.finditer(rule.rule):
        name, converter = match["name"], match["converter"]
        if converter == "int":
            if name not in world.ids:
                pytest.fail(f"no hostile values for <{name}> of {rule.rule}: add real ones to World.ids")
            known = st.sampled_from(world.ids[name]).map(str)
            odd = st.sampled_from(["0", str(2**31 - 1), str(2**31), str(2**63), "9" * 40, "-1", "abc", "1.5", "%00"])
            parts[name] = st.one_of(known, known, odd)
        elif converter == "path":
            parts[name] = st.one_of(st.sampled_from(["css/haven.css", "js/haven.js", "../config.py",
                                                     "css/../../config.py", "%2e%2e/%2e%2e/config.py",
                                                     "x" * 400, "favicon.svg%00.py"]), TEXT)
        elif name == "slug":
            parts[name] = st.one_of(st.sampled_from(world.ids["slug"]), st.sampled_from(world.ids["slug"]),
                                    TEXT, st.sampled_from(["..", "%2e%2e", "a" * 300, "Just-Found-Out"]))
        else:
            pytest.fail(f"no hostile values for <{name}> of {rule.rule}")
    return st.fixed_dictionaries(parts)


def build_path(rule: Rule, values: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        value = values[match["name"]]
        if match["converter"] in ("int", "path") and re.fullmatch(r"[\w./%-]*", value):
            return value  # already URL text (ids, "%00", "../config.py")
        return quote(value, safe="")

    return _ARGUMENT.sub(fill, rule.rule)


@st.composite
def hostile_request(draw: st.DrawFn, rule: Rule, method: str, world: World) -> dict[str, Any]:
    kind = draw(st.sampled_from(KINDS))
    fields = st.one_of(st.sampled_from(FIELDS), st.sampled_from(FIELDS), st.text(min_size=1, max_size=12))
    overrides = draw(st.dictionaries(fields, st.one_of(ANY_VALUE, st.lists(ANY_VALUE, min_size=2, max_size=3)),
                                     max_size=5))
    dropped = draw(st.sets(st.sampled_from(FIELDS), max_size=4))
    encoding = draw(st.sampled_from(["form", "form", "multipart", "json", "query", "raw"]))
    raw = content_type = None
    if encoding == "raw":
        raw = draw(st.one_of(st.binary(max_size=600), st.sampled_from(MARKERS).map(str.encode),
                             st.sampled_from([b"title=%FF%FE&body=ok", b"body=a%00b", b"=&=&&&", b"%%%%",
                                              b'{"body": [1, {"x": null}]}', b"--B\r\n\r\n--B--",
                                              b"body=" + b"x" * 300_000])))
        content_type = draw(st.sampled_from([
            "application/x-www-form-urlencoded", "multipart/form-data; boundary=B", "multipart/form-data",
            "application/json", "text/plain", "application/octet-stream", "",
            "application/x-www-form-urlencoded; charset=latin-1"]))
    return {
        "kind": kind,
        "path": build_path(rule, draw(path_values(rule, world))),
        "overrides": overrides,
        "dropped": dropped,
        "query": draw(st.dictionaries(fields, ANY_VALUE, max_size=2)),
        "encoding": encoding,
        "raw": raw,
        "content_type": content_type,
        "token": draw(st.sampled_from([True, True, True, False])),
        "accept": draw(st.sampled_from([None, None, "application/json", "text/html;q=0.1, application/json"])),
    }


def url_sized(value: Any) -> Any:
    """Servers refuse request lines past a few kilobytes (gunicorn: 4094 bytes), so a URL carries no more."""
    return value[:2000] if isinstance(value, str) else value


def caller_for(world: World, rule: Rule, kind: str) -> Caller:
    return world.throwaway(kind) if rule.endpoint in SESSION_ENDPOINTS else world.callers[kind]


def send(world: World, who: Caller, rule: Rule, method: str, req: dict[str, Any]) -> tuple[Any, str]:
    endpoint = rule.endpoint
    form = {**baseline(endpoint, who, world), **req["overrides"]}
    for name in req["dropped"]:
        form.pop(name, None)
    headers = {"Accept": req["accept"]} if req["accept"] else {}
    if req["token"]:
        form["csrf_token"] = who.token
        headers["X-CSRFToken"] = who.token
    items = MultiDict()
    for name, value in form.items():
        for one in value if isinstance(value, list) else [value]:
            items.add(name, one)
    kwargs: dict[str, Any] = {"method": method, "headers": headers,
                              "query_string": {k: url_sized(v) for k, v in req["query"].items()}}
    encoding = req["encoding"] if method == "POST" else "query"
    if encoding == "form":
        kwargs["data"] = items
    elif encoding == "multipart":
        items.add(next(iter(form), "body"), (io.BytesIO(b"\x00\xff" * 50), "notes.txt"))
        kwargs.update(data=items, content_type="multipart/form-data")
    elif encoding == "json":
        kwargs["json"] = form
    elif encoding == "query":
        kwargs["query_string"] = MultiDict([(k, url_sized(v)) for k, v in items.items(multi=True)]
                                           + list(req["query"].items()))
    else:
        kwargs.update(data=req["raw"], content_type=req["content_type"])
    where = f"{req['kind']} {method} {req['path']} ({endpoint}, {encoding}, token={req['token']})"
    return who.client.open(req["path"], **kwargs), where


def attack(world: World, rule: Rule, method: str, req: dict[str, Any]) -> None:
    app = world.app
    who = caller_for(world, rule, req["kind"])
    before = snapshot(app) if method == "POST" else None
    response, where = send(world, who, rule, method, req)
    assert_sane(response, where)
    if response.status_code >= 400 and before is not None:
        assert snapshot(app) == before, f"{where}: refused with {response.status_code}, yet something was written"
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and location.startswith("/") and not location.startswith("//"):
        assert_sane(who.client.get(location), f"{where} -> {location}")


def attack_route(world: World, rule: Rule, method: str) -> None:
    @bounded(4)
    @given(req=hostile_request(rule, method, world))
    def one_route(req: dict[str, Any]) -> None:
        attack(world, rule, method, req)

    one_route()
    # Whole rows after this route's examples (a half-written row stays, so it is caught here).
    assert_consistent(world.app)


def rules_to_attack(app: Flask) -> list[tuple[Rule, str]]:
    pairs = [(rule, method) for rule in app.url_map.iter_rules()
             for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]
    return sorted(pairs, key=lambda pair: (pair[0].rule, pair[1]))


def test_hostile_requests_on_every_route(world: World) -> None:
    pairs = rules_to_attack(world.app)
    assert len(pairs) >= 60
    for rule, method in pairs:
        attack_route(world, rule, method)
    assert_every_page_escapes_what_was_stored(world)


def test_every_route_refuses_hostile_markers_without_the_token(world: World) -> None:
    """Every POST route, visitors, members and moderators, every field a marker, no token: a 400
    that writes nothing (log-out without a session and the moderators' 404 gate aside)."""
    for rule, method in rules_to_attack(world.app):
        if method != "POST":
            continue
        for kind in ("visitor", "partner", "moderator"):
            req = {"kind": kind, "path": build_path(rule, {a: str(world.ids[a][0]) for a in rule.arguments}),
                   "overrides": dict(zip(FIELDS, itertools.cycle(MARKERS), strict=False)), "dropped": set(),
                   "query": {}, "encoding": "form", "raw": b"", "content_type": "", "token": False, "accept": None}
            who = caller_for(world, rule, kind)
            before = snapshot(world.app)
            response, where = send(world, who, rule, method, req)
            assert_sane(response, where)
            if rule.endpoint == "accounts.logout" or (rule.endpoint.startswith("moderation.staff")
                                                      and kind not in ("moderator", "admin")):
                assert response.status_code in (302, 400, 404), where
            else:
                assert response.status_code == 400, f"{where}: {response.status_code}"
            assert snapshot(world.app) == before, f"{where}: written without a token"


def assert_every_page_escapes_what_was_stored(world: World) -> None:
    """Whatever the attacks stored, every page that shows stored text shows it escaped."""
    with world.app.app_context():
        slugs = list(db.session.scalars(select(Room.slug)))
        threads = list(db.session.scalars(select(Thread.id)))
        posts = list(db.session.scalars(select(Post.id).order_by(Post.id.desc()).limit(40)))
    pages = ["/rooms", "/account", "/notices", "/moderation", "/moderation?fragment=1", "/moderation/log",
             "/moderation/words", "/moderation/moderators"]
    pages += [f"/rooms/{slug}" for slug in slugs] + [f"/rooms/{slug}/chat" for slug in slugs]
    pages += [f"/threads/{tid}" for tid in threads] + [f"/posts/{pid}" for pid in posts]
    pages += [f"/posts/{pid}/edit" for pid in posts[:10]] + [f"/posts/{pid}/reply" for pid in posts[:10]]
    for kind, who in world.callers.items():
        for page in pages:
            response = who.client.get(page)
            assert_sane(response, f"{kind} GET {page}")
            assert urlsplit(response.headers.get("Location", "")).netloc in ("", "localhost"), page


def test_socket_transport_refuses_oversized_and_stale_polls(world: World) -> None:
    """The long-polling transport, which python-engineio answers outside Flask: a body over the
    frame cap is a 413 that closes the connection, a POST to a session that just closed a 400."""
    import json

    client = world.callers["partner"].client
    handshake = client.get("/socket.io/?EIO=4&transport=polling")
    assert handshake.status_code == 200
    polling = f"/socket.io/?EIO=4&transport=polling&sid={json.loads(handshake.get_data(as_text=True)[1:])['sid']}"
    cap = world.app.config["SOCKETIO_MAX_FRAME_BYTES"]
    huge = client.post(polling, data=b"4" * (cap + 1), content_type="text/plain")
    assert huge.status_code == 413 and huge.headers["Connection"] == "close"
    assert huge.headers["X-Content-Type-Options"] == "nosniff"
    assert client.post(polling, data=b"1", content_type="text/plain").status_code == 200  # the client closes
    for _ in range(2):
        assert client.post(polling, data=b"40", content_type="text/plain").status_code == 400
    assert client.get("/rooms").status_code == 200


def test_deleting_an_account_with_its_posts_leaves_whole_threads(world: World) -> None:
    """The author of a thread others answered (an opening post and two replies of their own)
    deletes their account and posts: the thread stays on its emptied opening post, and its
    counters still agree with its rows (one reply left, by someone else)."""
    partner = world.callers["partner"]
    assert partner.account is not None
    thread_id, opening, reply = world.ids["thread_id"][0], world.ids["post_id"][0], world.ids["post_id"][1]
    answer = partner.client.post(f"/posts/{reply}/replies", data={"body": "One more thing.", "csrf_token": partner.token})
    assert answer.status_code == 302
    response = partner.client.post("/account/delete", data={"posts": "remove", "password": partner.account.password,
                                                            "csrf_token": partner.token})
    assert response.status_code == 200
    assert_consistent(world.app)
    page = world.callers["moderator"].client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "· 1 reply" in " ".join(page.split()), "the thread's reply count is off"
    assert f'id="post-{opening}"' in page


def test_ids_beyond_the_integer_column_on_every_route(world: World) -> None:
    """SQLite stores any integer, PostgreSQL's integer column refuses one past 2**31 - 1 (a 500 if
    it reached the query): every route with an id answers such ids as unknown."""
    for rule, method in rules_to_attack(world.app):
        ints = [name for name in rule.arguments if "int" in type(rule._converters[name]).__name__.lower()]
        if not ints:
            continue
        for value in (2**31, 10**30):
            for kind in ("partner", "admin"):
                who = world.callers[kind]
                path = build_path(rule, {a: str(value) if a in ints else str(world.ids[a][0]) for a in rule.arguments})
                before = snapshot(world.app)
                response = who.client.open(path, method=method, data={"csrf_token": who.token, "note": "x"})
                assert_sane(response, f"{kind} {method} {path}")
                assert response.status_code in (302, 400, 404), f"{kind} {method} {path}: {response.status_code}"
                assert snapshot(world.app) == before, f"{kind} {method} {path} wrote something"
    admin = world.callers["admin"]
    for rule, method in rules_to_attack(world.app):
        if method == "GET" and rule.endpoint != "static":
            path = build_path(rule, {a: str(world.ids[a][0]) for a in rule.arguments})
            for page in (str(2**63), "9" * 5000, "-99999999999999999999"):
                assert_sane(admin.client.get(path, query_string={"page": page}), f"GET {path}?page={page[:20]}")

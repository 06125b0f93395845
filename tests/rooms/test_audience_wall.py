"""The audience wall: a member reaches only the rooms of their own path.

Every route of the walled blueprints is enumerated from the URL map, so a route
added later is covered without editing this file (an argument this file does not
know how to fill fails the test, on purpose). For each one, a member of the other
audience gets a 404 that is byte-for-byte the 404 of something that does not exist,
shows no title, room name or text, and writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from tests.conftest import Account
from tests.rooms.conftest import RECOVERY_ROOM, Made, add_reply, snapshot, start_thread

WALLED_BLUEPRINTS = ("rooms", "chat")
UNKNOWN = {"slug": "no-such-room", "thread_id": 987654, "post_id": 987654, "room_id": 987654}
# Other features' routes that take these same ids are walled too (a refusal there may be 403
# for everyone, but it must look the same for another audience's post as for no post at all).
AUDIENCE_ARGS = set(UNKNOWN)
FORM = {"title": "Crossing over", "body": "Trying to write where I should not.",
        "content_warning": "", "submit_key": "wall-test-key-1"}


@dataclass
class Target:
    """One audience's room, thread, opening post and reply, and the words that must not leak."""

    slug: str
    room_id: int
    room_name: str
    thread: Made
    reply_id: int
    reply_body: str

    def values(self, arg: str, post_id: int) -> object:
        known = {"slug": self.slug, "room_id": self.room_id, "thread_id": self.thread.thread_id, "post_id": post_id}
        if arg not in known:
            pytest.fail(f"the audience-wall test does not know how to fill <{arg}>: add it to Target.values")
        return known[arg]

    def secrets(self) -> list[str]:
        return [self.thread.title, self.thread.body, self.reply_body, self.room_name]


def walled_rules(app: Flask) -> list[Rule]:
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in WALLED_BLUEPRINTS
             or (r.arguments and r.arguments <= AUDIENCE_ARGS)]
    assert len(rules) >= 10, "the rooms blueprint lost its routes?"
    return sorted(rules, key=lambda r: r.rule)


def scoped(rule: Rule) -> bool:
    return bool(rule.arguments)


def own(rule: Rule) -> bool:
    """Routes of the rooms and chat features (other features set their own role rules)."""
    return rule.endpoint.split(".")[0] in WALLED_BLUEPRINTS


def methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def build(app: Flask, rule: Rule, values: dict[str, object]) -> str:
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        return adapter.build(rule.endpoint, values, method=methods(rule)[0])


def call(client: FlaskClient, method: str, url: str):  # type: ignore[no-untyped-def]
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data=FORM)


_TOKENS = re.compile(r'(name="csrf_token" value="|name="csrf-token" content=")[^"]*"')


def normalized(body: str) -> str:
    return _TOKENS.sub(r'\1"', body)


def make_target(app: Flask, author: Account, slug: str, name: str, title: str, body: str, reply: str) -> Target:
    made = start_thread(app, author, slug, title, body)
    reply_id = add_reply(app, author, made.post_id, reply)
    from forum.db import db
    from forum.rooms.models import Room

    with app.app_context():
        from sqlalchemy import select

        room = db.session.scalar(select(Room).where(Room.slug == slug))
        assert room is not None
        return Target(slug, room.id, room.name, made, reply_id, reply)


@pytest.fixture
def walled_app(app: Flask) -> Iterator[Flask]:
    # Dozens of refused POSTs in one test: the per-member post limit is not what is tested here.
    app.config["POST_RATE_LIMIT"] = "10000 per minute"
    yield app


@pytest.fixture
def recovery_target(walled_app: Flask, recovering: Account) -> Target:
    return make_target(walled_app, recovering, RECOVERY_ROOM, "Early days", "Recovery only: day ninety",
                       "Ninety days today and I told nobody.", "Proud of you, quietly.")


@pytest.fixture
def partner_target(walled_app: Flask, partner: Account) -> Target:
    return make_target(walled_app, partner, "living-with-it", "Living with it", "Partners only: the therapist visit",
                       "We saw a counsellor together for the first time.", "How did it feel afterwards?")


def assert_walled(app: Flask, client: FlaskClient, target: Target) -> int:
    """Every walled route, every method, opening post and reply: a 404 like an unknown id's."""
    before = snapshot(app)
    checked = 0
    for rule in walled_rules(app):
        if not scoped(rule):
            continue
        for post_id in (target.thread.post_id, target.reply_id):
            for method in methods(rule):
                url = build(app, rule, {a: target.values(a, post_id) for a in rule.arguments})
                unknown_url = build(app, rule, {a: UNKNOWN[a] for a in rule.arguments})
                response = call(client, method, url)
                body = response.get_data(as_text=True)
                expected = (404,) if own(rule) else (403, 404)
                assert response.status_code in expected, f"{method} {url} answered {response.status_code}"
                for secret in target.secrets():
                    assert secret not in body, f"{method} {url} leaked {secret!r}"
                unknown = call(client, method, unknown_url)
                assert unknown.status_code == response.status_code, f"{method} {url}: unlike an unknown id"
                assert normalized(body) == normalized(unknown.get_data(as_text=True)), \
                    f"{method} {url}: the 404 differs from an unknown id's"
                checked += 1
    assert snapshot(app) == before, "a refused request wrote something"
    return checked


def test_partner_cannot_reach_anything_of_the_recovery_audience(
        walled_app: Flask, partner_client: FlaskClient, recovery_target: Target) -> None:
    checked = assert_walled(walled_app, partner_client, recovery_target)
    assert checked >= 20


def test_member_in_recovery_cannot_reach_anything_of_the_partner_audience(
        walled_app: Flask, recovery_client: FlaskClient, partner_target: Target) -> None:
    assert assert_walled(walled_app, recovery_client, partner_target) >= 20


def test_the_same_routes_answer_for_the_own_audience(
        walled_app: Flask, recovery_client: FlaskClient, recovery_target: Target) -> None:
    """Control: the 404s above come from the wall, not from routes that never work."""
    for rule in walled_rules(walled_app):
        if "GET" not in methods(rule) or not scoped(rule) or not own(rule):
            continue
        url = build(walled_app, rule, {a: recovery_target.values(a, recovery_target.reply_id) for a in rule.arguments})
        response = recovery_client.get(url)
        assert response.status_code == 200, f"GET {url} answered {response.status_code}"


def test_room_index_lists_only_the_members_own_rooms(
        walled_app: Flask, partner_client: FlaskClient, recovery_client: FlaskClient,
        recovery_target: Target, partner_target: Target) -> None:
    partner_page = partner_client.get("/rooms").get_data(as_text=True)
    assert "Living with it" in partner_page and "Just found out" in partner_page
    for name in ("Early days", "Working the steps", "Relapse and starting again", "early-days"):
        assert name not in partner_page
    recovery_page = recovery_client.get("/rooms").get_data(as_text=True)
    assert "Early days" in recovery_page
    for name in ("Living with it", "Just found out", "Rebuilding or leaving"):
        assert name not in recovery_page


def test_moderators_see_both_audiences(walled_app: Flask, moderator_client: FlaskClient,
                                       recovery_target: Target, partner_target: Target) -> None:
    index = moderator_client.get("/rooms").get_data(as_text=True)
    assert "Early days" in index and "Living with it" in index
    for target in (recovery_target, partner_target):
        for rule in walled_rules(walled_app):
            if "GET" not in methods(rule) or not scoped(rule) or not own(rule):
                continue
            url = build(walled_app, rule, {a: target.values(a, target.thread.post_id) for a in rule.arguments})
            response = moderator_client.get(url)
            if rule.endpoint in ("rooms.edit", "rooms.delete_form"):
                assert response.status_code == 403  # a moderator reads, but does not rewrite members' words
            else:
                assert response.status_code == 200, f"GET {url} answered {response.status_code}"
        thread_page = moderator_client.get(f"/threads/{target.thread.thread_id}").get_data(as_text=True)
        assert target.thread.title in thread_page and target.reply_body in thread_page


def test_visitors_are_sent_to_log_in_from_every_route(walled_app: Flask, client: FlaskClient,
                                                      recovery_target: Target) -> None:
    before = snapshot(walled_app)
    for rule in walled_rules(walled_app):
        for method in methods(rule):
            url = build(walled_app, rule, {a: recovery_target.values(a, recovery_target.reply_id)
                                           for a in rule.arguments})
            response = call(client, method, url)
            assert response.status_code == 302, f"{method} {url} answered {response.status_code}"
            assert response.headers["Location"].startswith("/login")
            body = response.get_data(as_text=True)
            for secret in recovery_target.secrets():
                assert secret not in body
    assert snapshot(walled_app) == before


def test_held_post_of_another_member_is_not_found(walled_app: Flask, recovery_client: FlaskClient,
                                                  recovery_target: Target, moderator: Account) -> None:
    """Within one audience, a post waiting for review is the author's and the moderators' only."""
    from tests.conftest import register

    newcomer = register(walled_app, "Fresh Start 77", "recovery")
    with walled_app.app_context():
        from forum.accounts.models import Member
        from forum.db import db

        member = db.session.get(Member, newcomer.id)
        assert member is not None
        member.published_posts = 0  # a new member: screening holds their first posts
        db.session.commit()
    held_id = add_reply(walled_app, newcomer, recovery_target.thread.post_id, "My very first words here.")
    for url in (f"/posts/{held_id}", f"/posts/{held_id}/reply", f"/posts/{held_id}/edit"):
        assert recovery_client.get(url).status_code == 404
    page = recovery_client.get(f"/threads/{recovery_target.thread.thread_id}").get_data(as_text=True)
    assert "My very first words here." not in page
    assert f'id="post-{held_id}"' not in page

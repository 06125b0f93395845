"""Members reach no moderation route or event; visitors neither; the roles page is for admins."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Account
from tests.moderation.conftest import flag, item_for, log_entries, post_status, received
from tests.rooms.conftest import Made


def moderation_urls(app: Flask) -> list[tuple[str, str]]:
    """Every (method, url) under /moderation, with each <int:...> filled in with 1."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/moderation"):
            continue
        url = re.sub(r"<[^>]+>", "1", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            urls.append((method, url))
    return urls


def test_there_are_moderation_routes_to_check(app: Flask) -> None:
    urls = moderation_urls(app)
    assert ("GET", "/moderation") in urls and ("POST", "/moderation/items/1/remove") in urls
    assert len(urls) >= 15


@pytest.mark.parametrize("who", ["partner_client", "recovery_client"])
def test_members_get_not_found_on_every_moderation_route(app: Flask, who: str, request: pytest.FixtureRequest,
                                                         partner_thread: Made, other_partner_client: FlaskClient) -> None:
    flag(other_partner_client, partner_thread.post_id, "spam")  # item 1 exists, so 404 is not "missing"
    client: FlaskClient = request.getfixturevalue(who)
    for method, url in moderation_urls(app):
        response = client.open(url, method=method, data={"reason": "spam", "note": "x", "hours": "1",
                                                         "pseudonym": "Quiet Harbor 11", "phrase": "x",
                                                         "action": "refuse", "text": "x"})
        assert response.status_code == 404, (method, url, response.status_code)
    assert post_status(app, partner_thread.post_id) == "published"
    assert item_for(app, partner_thread.post_id).state == "open"
    assert log_entries(app) == []


def test_visitors_reach_no_moderation_route(app: Flask, client: FlaskClient) -> None:
    for method, url in moderation_urls(app):
        response = client.open(url, method=method)
        assert response.status_code in (302, 404), (method, url)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]


def test_moderators_reach_the_queue_log_and_words(moderator_client: FlaskClient) -> None:
    for url in ("/moderation", "/moderation/log", "/moderation/words"):
        assert moderator_client.get(url).status_code == 200, url


def test_only_admins_manage_moderators(moderator_client: FlaskClient, admin_client: FlaskClient) -> None:
    assert moderator_client.get("/moderation/moderators").status_code == 404
    assert moderator_client.post("/moderation/moderators", data={"pseudonym": "x"}).status_code == 404
    assert admin_client.get("/moderation/moderators").status_code == 200


def test_the_moderation_link_shows_only_for_moderators(partner_client: FlaskClient,
                                                      moderator_client: FlaskClient) -> None:
    assert 'href="/moderation"' not in partner_client.get("/rooms").get_data(as_text=True)
    assert 'href="/moderation"' in moderator_client.get("/rooms").get_data(as_text=True)


def test_member_sockets_never_receive_queue_events(app: Flask, partner_thread: Made, partner_client: FlaskClient,
                                                   other_partner_client: FlaskClient, connect) -> None:
    sock = connect(partner_client)
    sock.get_received()
    flag(other_partner_client, partner_thread.post_id, "risk")
    assert received(sock, "queue") == []


def test_moderator_pages_require_a_second_factor_when_configured(app: Flask,
                                                                 moderator_client: FlaskClient) -> None:
    app.config["REQUIRE_MODERATOR_TOTP"] = True
    response = moderator_client.get("/moderation")
    assert response.status_code == 302 and "/moderation" not in response.headers["Location"].split("?")[0]
    assert moderator_client.post("/moderation/items/1/approve").status_code in (302, 404)


def test_flags_and_moderation_forms_need_the_csrf_token(app: Flask, partner_thread: Made,
                                                        other_partner_client: FlaskClient,
                                                        moderator_client: FlaskClient, partner: Account) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    assert flag(other_partner_client, partner_thread.post_id, "spam").status_code == 400
    assert moderator_client.post(f"/moderation/members/{partner.id}/warn", data={"note": "x"}).status_code == 400
    app.config["WTF_CSRF_ENABLED"] = False
    assert log_entries(app) == []
    with app.app_context():
        from sqlalchemy import func, select

        from forum.db import db
        from forum.moderation.models import Flag

        assert db.session.scalar(select(func.count(Flag.id))) == 0

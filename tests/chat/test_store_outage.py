"""While the database is briefly away, members are not logged out: a socket event is answered
"try again" and the socket stays open; a form post is answered 503, not "your form expired"."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from forum.sessions import ServerSessionInterface


def _outage(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(*_args: Any, **_kwargs: Any) -> None:
        raise OperationalError("SELECT", {}, ConnectionRefusedError("the database restarts"))

    monkeypatch.setattr(ServerSessionInterface, "_load", unreachable)


def test_a_socket_event_during_an_outage_asks_to_try_again(partner_client: FlaskClient, connect: Any,
                                                           partner_room: int,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    sock = connect(partner_client)
    assert sock.emit("join", {"room_id": partner_room}, callback=True)["ok"] is True
    with monkeypatch.context() as m:
        _outage(m)
        ack = sock.emit("send", {"room_id": partner_room, "body": "are you there?"}, callback=True)
        assert ack["ok"] is False and ack["code"] == "error" and "try again" in ack["error"]
        assert sock.is_connected()  # not taken for a log-out
    ack = sock.emit("send", {"room_id": partner_room, "body": "are you there?"}, callback=True)
    assert ack["ok"] is True


def test_a_form_posted_during_an_outage_gets_503(app: Flask, partner_client: FlaskClient,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    page = partner_client.get("/rooms/just-found-out/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    with monkeypatch.context() as m:
        _outage(m)
        response = partner_client.post("/rooms/just-found-out/new", data={
            "csrf_token": token.group(1), "title": "Tonight", "body": "Is anyone around?"})
    assert response.status_code == 503
    assert "briefly unavailable" in response.get_data(as_text=True)


def test_a_socket_cannot_connect_during_an_outage(partner_client: FlaskClient, connect: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _outage(monkeypatch)
    assert not connect(partner_client).is_connected()


@pytest.mark.parametrize("failure", [
    lambda: __import__("redis").exceptions.ConnectionError("Redis restarts"),
    lambda: __import__("sqlalchemy").exc.TimeoutError("every pool connection is busy"),
    lambda: OperationalError("UPDATE", {}, ConnectionResetError("the server closed the connection")),
], ids=["redis", "pool", "database"])
def test_a_page_whose_service_is_briefly_away_gets_503_not_500(partner_client: FlaskClient,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               failure: Any) -> None:
    from forum.rooms import queries

    def away(*_args: Any, **_kwargs: Any) -> None:
        raise failure()

    monkeypatch.setattr(queries, "visible_rooms", away)
    response = partner_client.get("/rooms")
    assert response.status_code == 503
    assert "briefly unavailable" in response.get_data(as_text=True)


def test_a_plain_bug_is_still_a_500(partner_client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from forum.rooms import queries

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(queries, "visible_rooms", broken)
    assert partner_client.get("/rooms").status_code == 500

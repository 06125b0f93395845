"""Admins grant and revoke the moderator role, in the web interface and on the command line."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Account, login
from tests.moderation.conftest import log_entries, member_row


def test_an_admin_grants_and_revokes_in_the_web_interface(app: Flask, admin: Account, admin_client: FlaskClient,
                                                           partner: Account, partner_client: FlaskClient) -> None:
    assert partner_client.get("/moderation").status_code == 404
    response = admin_client.post("/moderation/moderators", data={"pseudonym": partner.pseudonym.lower()})
    assert response.status_code == 302
    assert member_row(app, partner.id).role == "moderator"
    assert login(app.test_client(), partner).get("/moderation").status_code == 200
    (granted,) = log_entries(app, "set_role")
    assert granted.moderator_id == admin.id and granted.before == {"role": "member"}

    admin_client.post(f"/moderation/moderators/{partner.id}/revoke")
    assert member_row(app, partner.id).role == "member"
    assert login(app.test_client(), partner).get("/moderation").status_code == 404
    assert [e.before for e in log_entries(app, "set_role")] == [{"role": "member"}, {"role": "moderator"}]


def test_granting_an_unknown_pseudonym_says_so(admin_client: FlaskClient) -> None:
    response = admin_client.post("/moderation/moderators", data={"pseudonym": "Nobody Here 99"})
    assert response.status_code == 400
    assert "no member with that pseudonym" in response.get_data(as_text=True)


def test_an_admin_cannot_change_their_own_role(app: Flask, admin: Account, admin_client: FlaskClient) -> None:
    admin_client.post("/moderation/moderators", data={"pseudonym": admin.pseudonym})
    admin_client.post(f"/moderation/moderators/{admin.id}/revoke")
    assert member_row(app, admin.id).role == "admin"


def test_losing_the_role_closes_open_sockets(app: Flask, moderator: Account, moderator_client: FlaskClient,
                                             admin_client: FlaskClient, connect) -> None:
    sock = connect(moderator_client)
    assert sock.is_connected()
    admin_client.post(f"/moderation/moderators/{moderator.id}/revoke")
    assert not sock.is_connected()


def test_the_command_line_grants_and_revokes(app: Flask, partner: Account) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["set-role", partner.pseudonym, "moderator"])
    assert result.exit_code == 0, result.output
    assert "is now moderator" in result.output
    assert member_row(app, partner.id).role == "moderator"
    (entry,) = log_entries(app, "set_role")
    assert entry.moderator_id is None and entry.before == {"role": "member"}
    result = runner.invoke(args=["set-role", partner.pseudonym, "member"])
    assert result.exit_code == 0 and member_row(app, partner.id).role == "member"
    missing = runner.invoke(args=["set-role", "Nobody Here 99", "moderator"])
    assert missing.exit_code == 1 and "no member" in missing.output
    wrong = runner.invoke(args=["set-role", partner.pseudonym, "overlord"])
    assert wrong.exit_code != 0 and member_row(app, partner.id).role == "member"

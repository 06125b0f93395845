"""Pseudonym rules as a member meets them: each refusal names its reason."""

from __future__ import annotations

import itertools

import pytest
from flask.testing import FlaskClient

from forum.accounts import pseudonyms as p
from forum.accounts.pseudonyms import normalize_pseudonym, pseudonym_key, pseudonym_problem, suggest_pseudonym


@pytest.mark.parametrize("name", [
    "Quiet Harbor 11", "abc", "x" * 24, "Ana-Lucía_7", "Łukasz", "Ярослав", "さくら", "Mellow Tide",
    "Badminton Fan", "Clean Shaven", "Lantern-Keeper", "नमस्ते दोस्त", "Seven Oaks 2", "Dotcom Kid", "Modest Fern",
    "123",
])
def test_acceptable_pseudonyms(name: str) -> None:
    assert pseudonym_problem(normalize_pseudonym(name)) is None


@pytest.mark.parametrize(("name", "message"), [
    ("ab", p.TOO_SHORT_OR_LONG),
    ("x" * 25, p.TOO_SHORT_OR_LONG),
    ("jane@example.com", p.LOOKS_LIKE_EMAIL),
    ("jane.doe.longname@example.com", p.LOOKS_LIKE_EMAIL),  # too long too, but "email" says more
    ("jane at mail dot com", p.LOOKS_LIKE_EMAIL),
    ("janedoe gmail", p.LOOKS_LIKE_EMAIL),
    ("07700 900123", p.LOOKS_LIKE_PHONE),
    ("+44 7700 900 123", p.LOOKS_LIKE_PHONE),
    ("555-123-4567", p.LOOKS_LIKE_PHONE),
    ("https://my.site", p.LOOKS_LIKE_URL),
    ("www.example.org", p.LOOKS_LIKE_URL),
    ("www jane", p.LOOKS_LIKE_URL),
    ("jane.com", p.LOOKS_LIKE_URL),
    ("jane dot com", p.LOOKS_LIKE_URL),
    ("jane_dot_org", p.LOOKS_LIKE_URL),
    ("jane_at_gmail", p.LOOKS_LIKE_EMAIL),
    ("jane-at-mail-dot-com", p.LOOKS_LIKE_EMAIL),
    ("555 one two three four", p.LOOKS_LIKE_PHONE),
    ("---", p.NO_LETTERS),
    ("_ _", p.NO_LETTERS),
    ("m o d", p.LOOKS_LIKE_STAFF),
    ("a_d_m_i_n", p.LOOKS_LIKE_STAFF),
    ("Site Founder", p.LOOKS_LIKE_STAFF),
    ("jane!", p.BAD_CHARACTERS),
    ("a.b.c", p.BAD_CHARACTERS),
    ("smile \U0001F600", p.BAD_CHARACTERS),
    ("zero\u200bwidth", p.BAD_CHARACTERS),
    ("Hаven Friend", p.MIXED_SCRIPTS),  # the "а" is Cyrillic
    ("Moderator", p.LOOKS_LIKE_STAFF),
    ("the mods", p.LOOKS_LIKE_STAFF),
    ("Haven Team", p.LOOKS_LIKE_STAFF),
    ("SiteAdmin", p.LOOKS_LIKE_STAFF),
    ("Adm1n", p.LOOKS_LIKE_STAFF),
    ("M0D", p.LOOKS_LIKE_STAFF),
    ("h4ven helper", p.LOOKS_LIKE_STAFF),
    ("ＡＤＭＩＮ", p.LOOKS_LIKE_STAFF),  # full-width letters
    ("Official_Support", p.LOOKS_LIKE_STAFF),
])
def test_refused_pseudonyms_say_why(name: str, message: str) -> None:
    assert pseudonym_problem(normalize_pseudonym(name)) == message


def test_every_message_is_distinct_and_plain() -> None:
    messages = [p.TOO_SHORT_OR_LONG, p.LOOKS_LIKE_EMAIL, p.LOOKS_LIKE_PHONE, p.LOOKS_LIKE_URL,
                p.BAD_CHARACTERS, p.NO_LETTERS, p.MIXED_SCRIPTS, p.LOOKS_LIKE_STAFF, p.TAKEN]
    assert len(set(messages)) == len(messages)
    assert all(m.endswith(".") and len(m) < 120 for m in messages)


def test_uniqueness_key_ignores_case_width_and_separators() -> None:
    same = ["Quiet Harbor", "quiet harbor", "QUIET  HARBOR", "Quiet_Harbor", "quiet-harbor", "Ｑｕｉｅｔ Harbor"]
    assert len({pseudonym_key(normalize_pseudonym(n)) for n in same}) == 1
    assert pseudonym_key("Quiet Harbor") != pseudonym_key("QuietHarbor")


def test_normalized_form_is_what_is_shown() -> None:
    assert normalize_pseudonym("  Quiet   Harbor ") == "Quiet Harbor"
    assert normalize_pseudonym("Ｑｕｉｅｔ") == "Quiet"


def test_every_possible_suggestion_is_acceptable() -> None:
    """Suggestions are two calm words and a number, and none trips a rule (checked exhaustively)."""
    for adjective, noun in itertools.product(p._ADJECTIVES, p._NOUNS):
        for number in range(10, 100):
            name = f"{adjective} {noun} {number}"
            assert pseudonym_problem(name) is None, name
    for _ in range(50):
        words = suggest_pseudonym().split()
        assert len(words) == 3 and words[0] in p._ADJECTIVES and words[1] in p._NOUNS and words[2].isdigit()


def test_suggestions_are_limited_per_address(client: FlaskClient) -> None:
    """Each suggestion reads the member table: a person asks a few times, a script is slowed down."""
    answers = [client.get("/signup/suggest") for _ in range(61)]
    assert all(r.status_code == 200 and r.get_json()["pseudonym"] for r in answers[:60])
    assert answers[60].status_code == 429


@pytest.mark.parametrize("name", ["S1ut 44", "Pervert-Hunter", "Kill Yourself", "wh0re lover"])
def test_a_pseudonym_with_a_watched_word_is_refused(client: FlaskClient, name: str) -> None:
    """A name shows beside everything its member writes: no slur, insult or shaming word in it
    (the moderators' watched list, evasions included), at sign-up or when changing it."""
    response = client.post("/signup", data={"pseudonym": name, "password": "calm harbor lantern 42",
                                            "path": "partner", "guidelines": "yes"})
    assert response.status_code == 400
    assert "keep out of Haven" in response.get_data(as_text=True)


def test_ordinary_names_with_near_misses_stay_fine(client: FlaskClient) -> None:
    response = client.post("/signup", data={"pseudonym": "Scunthorpe Walker", "password": "calm harbor lantern 42",
                                            "path": "partner", "guidelines": "yes"})
    assert response.status_code == 200 and "recovery code" in response.get_data(as_text=True).lower()

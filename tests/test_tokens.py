"""Subscription tokens, minted and read in-process: what they carry, and every way one is
refused (tampered, expired, another salt or key, a changed password, a gone user)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core import signing
from django.template import Context, Template
from django.test import RequestFactory, override_settings

from django_sse.tokens import SALT, InvalidToken, read_token, redacted, subscription_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann() -> User:
    return User.objects.create_user("ann", password="first-password")


def test_a_token_names_its_user_and_topics(ann: User) -> None:
    token = subscription_token(ann, ["room-2", "room-1", "room-1"])
    user, topics = read_token(token)
    assert user == ann and topics == ["room-1", "room-2"]
    payload = signing.loads(token, salt=SALT)
    assert payload["u"] == str(ann.pk) and payload["e"] - time.time() == pytest.approx(3600, 5)
    assert "first-password" not in str(payload) and ann.password not in str(payload)


@override_settings(SSE_TOKEN_MAX_AGE=60)
def test_max_age_comes_from_the_setting_or_the_call(ann: User) -> None:
    assert signing.loads(subscription_token(ann), salt=SALT)["e"] - time.time() < 61
    long = subscription_token(ann, max_age=86400)
    assert signing.loads(long, salt=SALT)["e"] - time.time() > 86000


@pytest.mark.parametrize(
    ("who", "topics", "max_age", "message"),
    [
        (None, [], None, "needs a saved user instance"),
        (AnonymousUser(), [], None, "needs a saved user instance"),
        (User(username="unsaved"), [], None, "needs a saved user instance"),
        ("ann", ["not a topic!"], None, "invalid topic name"),
        ("ann", [f"t{i}" for i in range(100)], None, "at most"),
        ("ann", [], 0, "max_age must be a positive number"),
        ("ann", [], -5, "max_age must be a positive number"),
        ("ann", [], True, "max_age must be a positive number"),
        ("ann", [], "60", "max_age must be a positive number"),
    ],
)
def test_minting_refuses_what_could_not_be_read(
    ann: User, who: Any, topics: list[str], max_age: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        subscription_token(ann if who == "ann" else who, topics, max_age=max_age)


def test_minting_refuses_an_inactive_user(ann: User) -> None:
    ann.is_active = False
    with pytest.raises(ValueError, match="inactive"):
        subscription_token(ann)


def refused(token: str) -> str:
    with pytest.raises(InvalidToken) as caught:
        read_token(token)
    return caught.value.reason


def test_a_tampered_token_is_invalid(ann: User) -> None:
    token = subscription_token(ann, ["room-1"])
    head, _, signature = token.rpartition(":")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    assert refused(head + ":" + flipped) == "invalid"
    other = User.objects.create_user("bob")
    forged = signing.dumps({**signing.loads(token, salt=SALT), "u": str(other.pk)}, salt="x")
    assert refused(forged) == "invalid"  # signed, but not with our salt
    with override_settings(SECRET_KEY="another-key-" + "k" * 40):
        assert refused(token) == "invalid"


def test_garbage_is_malformed_or_invalid() -> None:
    assert refused("") == "malformed"
    assert refused("x" * 5000) == "malformed"
    assert refused("not.a.token") == "invalid"
    assert refused(signing.dumps({"u": "1"}, salt=SALT)) == "invalid"  # fields missing


def test_an_expired_token_says_so(ann: User, monkeypatch: pytest.MonkeyPatch) -> None:
    token = subscription_token(ann, max_age=30)
    later = time.time() + 31
    monkeypatch.setattr(time, "time", lambda: later)
    assert refused(token) == "expired"


def test_a_password_change_or_a_gone_user_ends_the_token(ann: User) -> None:
    token = subscription_token(ann)
    ann.set_password("second-password")
    ann.save()
    assert refused(token) == "its user's password changed"
    token = subscription_token(ann)
    User.objects.filter(pk=ann.pk).update(is_active=False)
    assert refused(token) == "its user is gone or inactive"
    ann.delete()
    assert refused(token) == "its user is gone or inactive"


def test_key_rotation_keeps_tokens_signed_with_the_old_key(ann: User) -> None:
    with override_settings(SECRET_KEY="old-key-" + "k" * 40):
        token = subscription_token(ann)
    with override_settings(
        SECRET_KEY="new-key-" + "k" * 40, SECRET_KEY_FALLBACKS=["old-key-" + "k" * 40]
    ):
        assert read_token(token)[0] == ann


def test_a_log_shows_a_redacted_token(ann: User) -> None:
    token = subscription_token(ann)
    assert redacted(token) == token[:8] + "..." and len(redacted(token)) == 11
    assert redacted("short") == "..."


def test_the_template_tags_put_a_token_in_the_url(ann: User) -> None:
    request = RequestFactory().get("/")
    request.user = ann
    html = Template(
        "{% load django_sse %}{% sse_url 'room-1' token=True resume=False %}|{% sse_url 'room-1' %}"
    ).render(Context({"request": request}))
    with_token, without = html.split("|")
    assert "token=" in with_token and "token=" not in without
    token = with_token.split("token=")[1].split("&")[0]
    from urllib.parse import unquote

    assert read_token(unquote(token)) == (ann, ["room-1"])

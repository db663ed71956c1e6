from __future__ import annotations

import pytest
from channels.layers import BaseChannelLayer

from django_sse.streams import BROADCAST, group_name, topic_stream, user_stream


def test_stream_names() -> None:
    assert topic_stream("orders") == "topic:orders"
    assert user_stream(42) == "user:42"
    assert user_stream("4f1c-aa") == "user:4f1c-aa"


@pytest.mark.parametrize("name", ["orders", "a.b_c-D9", "x" * 80])
def test_group_names_are_valid_for_channel_layers(name: str) -> None:
    layer = BaseChannelLayer()
    for stream in (topic_stream(name), user_stream(name), BROADCAST):
        assert layer.require_valid_group_name(group_name(stream))


def test_group_names_of_different_kinds_never_collide() -> None:
    names = {
        group_name(s) for s in (topic_stream("user.1"), user_stream(1), topic_stream("broadcast"))
    }
    assert len(names) == 3


@pytest.mark.parametrize("bad", ["", "has space", "a:b", "é", "x" * 81, "a/b", "new\nline"])
def test_bad_topic_names_are_refused_with_the_rule(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid topic name .* use 1 to 80 characters"):
        topic_stream(bad)


def test_topic_name_must_be_text() -> None:
    with pytest.raises(TypeError, match="topic name must be a str"):
        topic_stream(5)


@pytest.mark.parametrize("bad", [None, True, "", "a b"])
def test_bad_user_keys_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        user_stream(bad)

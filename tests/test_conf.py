"""Settings are read once, then cached until Django signals a change."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings
from pytest_django.fixtures import Settings as SettingsFixture

from django_sse import conf as conf_module
from django_sse.conf import DEFAULTS, Settings, conf


class CountingSettings:
    """Stands in for ``django.conf.settings``, recording every read."""

    def __init__(self, **values: Any) -> None:
        self.values = values
        self.reads: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.reads.append(name)
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingSettings]:
    settings = CountingSettings(SSE_RETRY=1500)
    monkeypatch.setattr(conf_module, "django_settings", settings)
    yield settings
    for name in DEFAULTS:  # no value from the stand-in outlives the test
        conf.forget(name)


def test_a_setting_is_read_from_django_once(counting: CountingSettings) -> None:
    settings = Settings()
    assert [settings.SSE_RETRY for _ in range(3)] == [1500, 1500, 1500]
    assert counting.reads == ["SSE_RETRY"]


def test_an_unset_setting_is_its_default_read_once(counting: CountingSettings) -> None:
    settings = Settings()
    assert [settings.SSE_MAX_BUFFERED_BYTES for _ in range(3)] == [1048576] * 3
    assert counting.reads == ["SSE_MAX_BUFFERED_BYTES"]


def test_forget_makes_the_next_read_go_to_django(counting: CountingSettings) -> None:
    settings = Settings()
    assert settings.SSE_RETRY == 1500
    counting.values["SSE_RETRY"] = 2500
    assert settings.SSE_RETRY == 1500
    settings.forget("SSE_RETRY")
    assert settings.SSE_RETRY == 2500
    assert counting.reads == ["SSE_RETRY", "SSE_RETRY"]


def test_override_settings_is_seen_on_entry_and_on_exit() -> None:
    assert conf.SSE_MAX_TOPICS == DEFAULTS["SSE_MAX_TOPICS"] == 8
    with override_settings(SSE_MAX_TOPICS=3):
        assert conf.SSE_MAX_TOPICS == 3
        with override_settings(SSE_MAX_TOPICS=5):
            assert conf.SSE_MAX_TOPICS == 5
        assert conf.SSE_MAX_TOPICS == 3
    assert conf.SSE_MAX_TOPICS == 8


def test_the_pytest_django_settings_fixture_is_seen(settings: SettingsFixture) -> None:
    assert conf.SSE_RETRY == 3000
    settings.SSE_RETRY = 1234
    assert conf.SSE_RETRY == 1234


def test_the_fixture_change_is_undone_after_its_test() -> None:
    assert conf.SSE_RETRY == 3000


def test_another_setting_changing_keeps_the_cache(counting: CountingSettings) -> None:
    conf.forget("SSE_RETRY")
    assert conf.SSE_RETRY == 1500
    with override_settings(USE_TZ=False):
        assert conf.SSE_RETRY == 1500
    assert counting.reads == ["SSE_RETRY"]

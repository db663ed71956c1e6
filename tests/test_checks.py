"""The system checks: each id triggered and not triggered, and their registration."""

from __future__ import annotations

import importlib.metadata
import sys
import types
from typing import Any

import pytest
from channels.routing import ProtocolTypeRouter
from django.core.checks import CheckMessage, Error, run_checks
from django.core.handlers.asgi import ASGIHandler
from django.test import override_settings

from django_sse import checks
from django_sse.asgi import PooledASGIHandler
from django_sse.conf import DEFAULTS
from django_sse.server import checks as server_checks

MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
REDIS = "channels_redis.core.RedisChannelLayer"


def redis_layer(hosts: Any) -> dict[str, Any]:
    return {"default": {"BACKEND": REDIS, "CONFIG": {"hosts": hosts}}}


def found(messages: list[CheckMessage]) -> list[tuple[str | None, str]]:
    return [(m.id, m.msg) for m in messages]


@pytest.fixture(autouse=True)
def no_worker_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine running the tests must not decide W001."""
    for name in ("WEB_CONCURRENCY", "UVICORN_WORKERS", "GUNICORN_CMD_ARGS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "argv", ["pytest"])


@pytest.mark.django_db  # the model checks look at the database (Job has a JSONField)
def test_checks_are_registered_under_their_tag() -> None:
    with override_settings(
        CHANNEL_LAYERS={}, SSE_RETRY=-1, SSE_MAX_TOPICS=-1, ASGI_APPLICATION=None
    ):
        everything = run_checks()
        tagged = run_checks(tags=[checks.TAG])
    ours = sorted(str(m.id) for m in everything if str(m.id).startswith("django_sse."))
    assert ours == ["django_sse.E001", "django_sse.E006", "django_sse.E010", "django_sse.W004"]
    assert sorted(str(m.id) for m in tagged) == ours


# E001 ------------------------------------------------------------------------


def test_e001_layer_configured_passes() -> None:
    assert checks.check_channel_layer(None) == []


@pytest.mark.parametrize(
    ("layers", "alias"),
    [({}, "default"), (MEMORY, "other"), ({"default": {"CONFIG": {}}}, "default")],
)
def test_e001_no_layer_for_the_alias(layers: dict[str, Any], alias: str) -> None:
    with override_settings(CHANNEL_LAYERS=layers, SSE_CHANNEL_LAYER=alias):
        messages = checks.check_channel_layer(None)
    assert found(messages) == [
        (
            "django_sse.E001",
            f"SSE_CHANNEL_LAYER is {alias!r} but CHANNEL_LAYERS has no {alias!r} layer "
            "with a BACKEND: django-sse cannot deliver events live.",
        )
    ]
    assert messages[0].hint == (
        f'Add CHANNEL_LAYERS = {{{alias!r}: {{"BACKEND": '
        '"channels.layers.InMemoryChannelLayer"}} for a single process, or '
        '"channels_redis.core.RedisChannelLayer" for several; or point '
        "SSE_CHANNEL_LAYER at an alias that exists."
    )


# W001 ------------------------------------------------------------------------


def test_w001_in_memory_layer_under_several_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    with override_settings(CHANNEL_LAYERS=MEMORY):
        messages = checks.check_in_memory_layer(None)
    assert found(messages) == [
        (
            "django_sse.W001",
            "CHANNEL_LAYERS['default'] is the in-memory layer but WEB_CONCURRENCY=4 runs 4 "
            "worker processes: an event published in one process rings only there (others "
            "see it after SSE_RESYNC_INTERVAL; ephemeral events never).",
        )
    ]
    assert messages[0].hint == (
        'Use "channels_redis.core.RedisChannelLayer" when several processes serve or '
        "publish events."
    )


@pytest.mark.parametrize(
    ("layers", "workers"), [(MEMORY, "1"), (MEMORY, "0"), (redis_layer([]), "4")]
)
def test_w001_one_process_or_a_shared_layer_passes(
    monkeypatch: pytest.MonkeyPatch, layers: dict[str, Any], workers: str
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", workers)
    with override_settings(CHANNEL_LAYERS=layers):
        assert checks.check_in_memory_layer(None) == []


@pytest.mark.parametrize(
    ("environ", "argv", "expected"),
    [
        ({}, ["manage.py", "check"], (1, "")),
        ({"WEB_CONCURRENCY": "3"}, [], (3, "WEB_CONCURRENCY=3")),
        ({"WEB_CONCURRENCY": "many"}, [], (1, "")),
        ({"UVICORN_WORKERS": "2"}, [], (2, "UVICORN_WORKERS=2")),
        ({"GUNICORN_CMD_ARGS": "--bind :80 --workers 5"}, [], (5, "GUNICORN_CMD_ARGS")),
        ({"GUNICORN_CMD_ARGS": "-w3"}, [], (3, "GUNICORN_CMD_ARGS")),
        ({}, ["/venv/bin/gunicorn", "-w", "2", "app"], (2, "--workers on the command line")),
        ({}, ["uvicorn", "--workers=8", "app"], (8, "--workers on the command line")),
        ({}, ["uvicorn", "--workers"], (1, "")),
        ({}, ["manage.py", "-w", "3"], (1, "")),
    ],
)
def test_w001_worker_count_from_environment_and_command_line(
    environ: dict[str, str], argv: list[str], expected: tuple[int, str]
) -> None:
    assert checks.worker_count(environ, argv) == expected


# W002 ------------------------------------------------------------------------

GZIP = ["django.middleware.gzip.GZipMiddleware"]


def test_w002_gzip_middleware_before_django_6_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "GZIP_FLUSHES", False)
    with override_settings(MIDDLEWARE=GZIP):
        messages = checks.check_gzip_middleware(None)
    assert found(messages) == [
        (
            "django_sse.W002",
            "MIDDLEWARE contains django.middleware.gzip.GZipMiddleware, which on Django < 6.1 "
            "holds streamed events in its compressor: browsers get them late, or not at all.",
        )
    ]
    assert messages[0].hint == (
        "Remove it from MIDDLEWARE (compress in the proxy and leave text/event-stream alone, "
        "or use gzip_page on chosen views), or upgrade to Django 6.1."
    )


@pytest.mark.parametrize(("flushes", "middleware"), [(True, GZIP), (False, [])])
def test_w002_django_6_1_or_no_gzip_passes(
    monkeypatch: pytest.MonkeyPatch, flushes: bool, middleware: list[str]
) -> None:
    monkeypatch.setattr(checks, "GZIP_FLUSHES", flushes)
    with override_settings(MIDDLEWARE=middleware):
        assert checks.check_gzip_middleware(None) == []


# W003 ------------------------------------------------------------------------

W003 = (
    "django_sse.W003",
    "CHANNEL_LAYERS['default'] has Redis hosts without \"socket_timeout\": None: with "
    "redis-py >= 8 an idle receive() fails every 5 seconds and the hub keeps reconnecting.",
)
NO_TIMEOUT = {"address": "redis://127.0.0.1:6379/0", "socket_timeout": None}


@pytest.mark.parametrize(
    "hosts",
    [
        [],
        ["redis://127.0.0.1:6379/0"],
        [("127.0.0.1", 6379)],
        [{"address": "redis://127.0.0.1:6379/0"}],
        [{"address": "redis://127.0.0.1:6379/0", "socket_timeout": 5}],
        [NO_TIMEOUT, "redis://127.0.0.1:6380/0"],
    ],
)
def test_w003_redis_8_hosts_that_time_out(monkeypatch: pytest.MonkeyPatch, hosts: Any) -> None:
    monkeypatch.setattr(checks, "redis_major_version", lambda: 8)
    with override_settings(CHANNEL_LAYERS=redis_layer(hosts)):
        messages = checks.check_redis_timeout(None)
    assert found(messages) == [W003]
    assert messages[0].hint == (
        'Write each host as {"address": "redis://...", "socket_timeout": None}.'
    )


SENTINEL = {"master_name": "main", "sentinels": [("s", 26379)], "socket_timeout": None}


@pytest.mark.parametrize(
    ("version", "layers"),
    [(8, redis_layer([NO_TIMEOUT, SENTINEL])), (7, redis_layer([])), (8, MEMORY)],
)
def test_w003_hosts_without_timeout_older_redis_or_other_layers_pass(
    monkeypatch: pytest.MonkeyPatch, version: int, layers: dict[str, Any]
) -> None:
    monkeypatch.setattr(checks, "redis_major_version", lambda: version)
    with override_settings(CHANNEL_LAYERS=layers):
        assert checks.check_redis_timeout(None) == []


def test_w003_redis_version_is_read_from_the_installed_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installed = importlib.metadata.version("redis")
    assert checks.redis_major_version() == int(installed.split(".")[0])

    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert checks.redis_major_version() == 0


# W004 ------------------------------------------------------------------------


class Middleware:
    def __init__(self, app: object) -> None:
        self.app = app


@pytest.fixture
def asgi_module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A module ``fake_asgi`` that ASGI_APPLICATION can name without a file."""
    module = types.ModuleType("fake_asgi")
    monkeypatch.setitem(sys.modules, "fake_asgi", module)
    return module


NOT_POOLED = (
    "django_sse.W004",
    "ASGI_APPLICATION 'fake_asgi.application' does not serve HTTP with "
    "django_sse.asgi.PooledASGIHandler: every open stream holds a thread.",
)


def wrapping_itself() -> Middleware:
    middleware = Middleware(None)
    middleware.app = middleware
    return middleware


@pytest.mark.parametrize(
    ("application", "expected"),
    [
        (PooledASGIHandler(), []),
        (Middleware(ProtocolTypeRouter({"http": Middleware(PooledASGIHandler())})), []),
        (ASGIHandler(), [NOT_POOLED]),
        (
            ProtocolTypeRouter({"http": ASGIHandler(), "websocket": PooledASGIHandler()}),
            [NOT_POOLED],
        ),
        (wrapping_itself(), [NOT_POOLED]),
    ],
    ids=["pooled", "pooled-wrapped", "django", "pooled-not-http", "endless-wrapping"],
)
def test_w004_finds_the_pooled_handler_behind_routers_and_middleware(
    asgi_module: types.ModuleType, application: object, expected: list[tuple[str, str]]
) -> None:
    asgi_module.__dict__["application"] = application
    with override_settings(ASGI_APPLICATION="fake_asgi.application"):
        assert found(server_checks.check_asgi_application(None)) == expected


@override_settings(ASGI_APPLICATION=None)
def test_w004_application_not_set() -> None:
    messages = server_checks.check_asgi_application(None)
    assert found(messages) == [
        (
            "django_sse.W004",
            "ASGI_APPLICATION is not set, so django-sse cannot check what serves its streams.",
        )
    ]
    assert messages[0].hint == (
        "In asgi.py write `from django_sse.asgi import get_asgi_application` and "
        '`application = get_asgi_application()`; set ASGI_APPLICATION = "mysite.asgi.application". '
        "If your application wraps the pooled handler in a way this check cannot see, add "
        '"django_sse.W004" to SILENCED_SYSTEM_CHECKS.'
    )


def test_w004_application_cannot_be_imported() -> None:
    with override_settings(ASGI_APPLICATION="nowhere_at_all.asgi.application"):
        messages = server_checks.check_asgi_application(None)
    assert found(messages) == [
        (
            "django_sse.W004",
            "ASGI_APPLICATION 'nowhere_at_all.asgi.application' cannot be imported: "
            "ModuleNotFoundError(\"No module named 'nowhere_at_all'\").",
        )
    ]


# E002-E020 -------------------------------------------------------------------


def allow(user: object, stream: str) -> bool:
    return True


async def allow_async(user: object, stream: str) -> bool:
    return True


def test_every_setting_has_a_value_check() -> None:
    assert set(checks.RULES) == set(DEFAULTS)


def test_default_values_pass() -> None:
    assert checks.check_settings(None) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SSE_CHANNEL_LAYER", "other"),
        ("SSE_PRESENCE_EVENTS", ["room-*", "lobby"]),
        ("SSE_ALLOW_ANONYMOUS", False),
        ("SSE_AUTHORIZE", "tests.test_checks.allow"),
        ("SSE_AUTHORIZE", allow),
        ("SSE_AUTHORIZE", allow_async),
        ("SSE_HEARTBEAT_INTERVAL", 1),
        ("SSE_RETRY", 0),
        ("SSE_MAX_CONNECTION_AGE", 0.5),
        ("SSE_MAX_PENDING", 1),
        ("SSE_SEND_TIMEOUT", 5),
        ("SSE_MAX_TOPICS", 0),
        ("SSE_EVENT_TTL", 60),
        ("SSE_MAX_EVENTS_PER_STREAM", 1),
        ("SSE_RESYNC_INTERVAL", 0.1),
        ("SSE_HANDLER_THREADS", 1),
        ("SSE_MAX_EVENT_SIZE", 1),
        ("SSE_MAX_CONNECTIONS_PER_USER", 1),
        ("SSE_MAX_CONNECTIONS_PER_IP", 1),
        ("SSE_MAX_CONNECTIONS_PER_IP", None),
        ("SSE_TRUSTED_PROXIES", ["10.0.0.5", "10.1.0.0/16", "::1", "fd00::/8"]),
        ("SSE_LIMIT_RETRY", 0),
        ("SSE_CORS_ALLOWED_ORIGINS", ["https://example.com", "http://127.0.0.1:8000"]),
        ("SSE_CORS_ALLOWED_ORIGINS", ()),
        ("SSE_MAX_BUFFERED_BYTES", 1),
    ],
)
def test_valid_values_pass(name: str, value: object) -> None:
    with override_settings(**{name: value}):
        assert checks.check_settings(None) == []


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("SSE_CHANNEL_LAYER", "", "E002"),
        ("SSE_PRESENCE_EVENTS", "room-*", "E026"),
        ("SSE_PRESENCE_EVENTS", ["room-*", ""], "E026"),
        ("SSE_CHANNEL_LAYER", None, "E002"),
        ("SSE_CHANNEL_LAYER", ["default"], "E002"),
        ("SSE_ALLOW_ANONYMOUS", "no", "E003"),
        ("SSE_AUTHORIZE", 42, "E004"),
        ("SSE_HEARTBEAT_INTERVAL", 0, "E005"),
        ("SSE_HEARTBEAT_INTERVAL", "15", "E005"),
        ("SSE_RETRY", -1, "E006"),
        ("SSE_RETRY", 3000.0, "E006"),
        ("SSE_MAX_CONNECTION_AGE", float("inf"), "E007"),
        ("SSE_MAX_PENDING", 0, "E008"),
        ("SSE_SEND_TIMEOUT", -5, "E009"),
        ("SSE_MAX_TOPICS", -1, "E010"),
        ("SSE_MAX_TOPICS", True, "E010"),
        ("SSE_EVENT_TTL", float("nan"), "E011"),
        ("SSE_MAX_EVENTS_PER_STREAM", 0, "E012"),
        ("SSE_RESYNC_INTERVAL", 0.0, "E013"),
        ("SSE_HANDLER_THREADS", 0, "E014"),
        ("SSE_MAX_EVENT_SIZE", 0, "E015"),
        ("SSE_MAX_CONNECTIONS_PER_USER", 0, "E016"),
        ("SSE_MAX_CONNECTIONS_PER_IP", 0, "E017"),
        ("SSE_MAX_CONNECTIONS_PER_IP", "200", "E017"),
        ("SSE_TRUSTED_PROXIES", "10.0.0.5", "E023"),
        ("SSE_TRUSTED_PROXIES", ["nginx"], "E023"),
        ("SSE_TRUSTED_PROXIES", ["10.0.0.300"], "E023"),
        ("SSE_TRUSTED_PROXIES", [None], "E023"),
        ("SSE_LIMIT_RETRY", -1, "E018"),
        ("SSE_CORS_ALLOWED_ORIGINS", "https://example.com", "E019"),
        ("SSE_CORS_ALLOWED_ORIGINS", ["https://example.com/"], "E019"),
        ("SSE_CORS_ALLOWED_ORIGINS", ["example.com"], "E019"),
        ("SSE_CORS_ALLOWED_ORIGINS", [None], "E019"),
        ("SSE_MAX_BUFFERED_BYTES", 0, "E020"),
    ],
)
def test_invalid_values_are_errors(name: str, value: object, code: str) -> None:
    expected = checks.RULES[name][1]
    with override_settings(**{name: value}):
        messages = checks.check_settings(None)
    assert messages == [
        Error(
            f"{name} must be {expected}, not {value!r}.",
            hint=f"Set {name} to {expected}, or remove it to use {DEFAULTS[name]!r}.",
            id=f"django_sse.{code}",
        )
    ]


def test_e027_presence_events_need_presence() -> None:
    with override_settings(SSE_PRESENCE_EVENTS=["room-*"]):
        assert found(checks.check_presence_events(None)) == [
            (
                "django_sse.E027",
                "SSE_PRESENCE_EVENTS is set but presence is off: no join or leave is sent.",
            )
        ]
    with override_settings(SSE_PRESENCE_EVENTS=["room-*"], SSE_PRESENCE_TTL=30):
        assert checks.check_presence_events(None) == []
    assert checks.check_presence_events(None) == []


def test_invalid_value_message_names_the_setting_and_the_fix() -> None:
    with override_settings(SSE_RETRY=-1):
        messages = checks.check_settings(None)
    assert messages == [
        Error(
            "SSE_RETRY must be an int of milliseconds >= 0, not -1.",
            hint="Set SSE_RETRY to an int of milliseconds >= 0, or remove it to use 3000.",
            id="django_sse.E006",
        )
    ]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            "tests.test_checks.nothing",
            'cannot be imported: Module "tests.test_checks" does not define a "nothing" '
            "attribute/class",
        ),
        (lambda user: True, "must accept two arguments (user, stream)"),
    ],
)
def test_e004_authorize_unimportable_or_of_the_wrong_shape(value: object, problem: str) -> None:
    with override_settings(SSE_AUTHORIZE=value):
        assert found(checks.check_settings(None)) == [
            ("django_sse.E004", f"SSE_AUTHORIZE {problem}.")
        ]

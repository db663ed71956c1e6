"""The compatibility gate: which accelerations run, and why not (in-process)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from django_sse.server import checks as server_checks
from django_sse.server import gate
from django_sse.server.handler import PooledASGIHandler
from tests.hiding import hide

PROBED = [p for p in gate.PRIVATE_NAMES if not p.live]


@pytest.fixture(autouse=True)
def fresh_decision() -> Iterator[None]:
    gate.reset()
    yield
    gate.reset()


def test_on_the_tested_releases_every_acceleration_is_on() -> None:
    """On the releases of the suite, both; on newer ones (the newest-releases job of CI),
    exactly those whose libraries are tested, and W030 names the others."""
    tested = {
        name
        for name, libraries in gate.NEEDS.items()
        if all(gate._series(lib) in gate.TESTED[lib] for lib in libraries)
    }
    decision = gate.decide()
    assert decision.on == tested
    assert len(server_checks.check_gate(None)) == 2 - len(tested)
    for reason in decision.reasons:
        assert "is untested (tested: " in reason, reason


def test_the_architecture_page_lists_every_private_name() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs/architecture.md").read_text()
    listed = page.split("<!-- gate:names:start -->")[1].split("<!-- gate:names:end -->")[0]
    rows = [line for line in listed.splitlines() if line.startswith("| ") and "`" in line]
    assert [row.split("`")[1] for row in rows] == [gate.label(p) for p in gate.PRIVATE_NAMES]


@pytest.mark.parametrize("private", PROBED, ids=gate.label)
def test_a_name_gone_turns_its_acceleration_off_and_no_other(private: gate.Private) -> None:
    restore = hide(private)
    try:
        decision = gate.decide()
        messages = server_checks.check_gate(None)
    finally:
        restore()
    others = {gate.FAST_PATH, gate.DAPHNE} - {private.acceleration}
    assert decision.on == others
    (reason,) = decision.reasons
    assert reason == f"{private.acceleration} off: {gate.label(private)} is gone"
    assert [(m.id, m.level) for m in messages] == [("django_sse.W030", 30)]
    assert gate.label(private) in messages[0].msg


def test_a_changed_signature_is_a_shape_the_gate_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.handlers.asgi import ASGIHandler

    async def read_body(self: Any, receive: Any, limit: int) -> None: ...

    monkeypatch.setattr(ASGIHandler, "read_body", read_body)
    monkeypatch.setattr(ASGIHandler, "create_request", lambda self, body, scope: None)
    decision = gate.decide()
    assert not decision.fast_path and decision.daphne
    assert decision.reasons == (
        "fast path off: django.core.handlers.asgi.ASGIHandler.create_request takes "
        "('self', 'body', 'scope'), not ('self', 'scope', 'body_file')",
    )


def test_an_untested_release_turns_its_accelerations_off(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata, "version", lambda n: "99.1.0" if n == "Twisted" else real(n)
    )
    decision = gate.decide()
    assert decision.on == {gate.FAST_PATH}
    assert decision.reasons == (
        "daphne write-through off: Twisted 99.1.0 is untested (tested: 26.10)",
    )
    assert PooledASGIHandler().fast_path is not None  # the other acceleration is on


def test_without_daphne_there_is_nothing_to_say(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.metadata.version

    def version(name: str) -> str:
        if name == "daphne":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    assert gate.decide().reasons == ("daphne write-through off: daphne is not installed",)
    assert server_checks.check_gate(None) == []  # uvicorn: not a problem


@override_settings(SSE_FAST_PATH=False)
def test_sse_fast_path_false_turns_every_acceleration_off_silently() -> None:
    assert gate.decide() == gate.Decision(frozenset(), ("SSE_FAST_PATH is False",))
    assert server_checks.check_gate(None) == []
    assert PooledASGIHandler().fast_path is None


def test_announce_warns_once_with_every_reason(caplog: pytest.LogCaptureFixture) -> None:
    decision = gate.Decision(frozenset(), ("fast path off: a", "daphne write-through off: b"))
    with caplog.at_level("WARNING", logger="django_sse.server"):
        gate.announce(decision)
    (record,) = caplog.records
    assert record.getMessage().endswith("fast path off: a | daphne write-through off: b")


def _run(code: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"DJANGO_SETTINGS_MODULE": "tests.server.settings", "PATH": "/usr/bin:/bin", **env},
    )
    return result.stdout.strip()


PATCHED = (
    "import daphne.http_protocol as h; "
    "print(getattr(h.WebRequest.handle_reply, '_django_sse_bounded', False))"
)


def test_get_asgi_application_patches_daphne_only_when_the_gate_allows_it() -> None:
    start = "from django_sse.asgi import get_asgi_application; get_asgi_application(); "
    assert _run(start + PATCHED) == "True"
    off = '{"SSE_FAST_PATH": false}'
    assert _run(start + PATCHED, SSE_TEST_OVERRIDES=off) == "False"


def test_manage_py_check_has_no_side_effects() -> None:
    """No handler built, no daphne patched, no server stack imported by the checks."""
    code = (
        "import django, sys; django.setup(); "
        "from django.core.management import call_command; "
        "call_command('check', '--deploy', '--fail-level', 'CRITICAL'); "
        "print(sorted(m for m in sys.modules if m.startswith(("
        "'django_sse.server.handler', 'django_sse.server.fastpath', 'tests.server.asgi')))); "
        + PATCHED
    )
    assert _run(code).splitlines()[-2:] == ["[]", "False"]

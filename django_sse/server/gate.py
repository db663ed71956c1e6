"""The one compatibility gate for the server accelerations.

The accelerations (the stream endpoint's fast path, daphne write-through and its
buffer bound) read names Django, daphne and Twisted do not promise. They turn on only
when all of this holds, checked once per process, before the first request:

- ``SSE_FAST_PATH`` is True (False turns every acceleration off);
- the installed Django, daphne and Twisted are of a release series the suite has run
  against (:data:`TESTED`);
- every name in :data:`PRIVATE_NAMES` has the shape expected (the attribute exists,
  a method takes the parameters it is called with).

Otherwise the site runs on Django's own request path and daphne's own writes, the
log says so once (:func:`announce`) and ``manage.py check`` says why
(``django_sse.W030``). Names that exist only on live objects are read with a safe
default, or inside a ``try`` that turns the acceleration off for the process on the
first surprise; they are listed here too, so that the list is the whole story. The
probe imports nothing that starts a reactor and patches nothing.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import inspect
import logging
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed

from django_sse.conf import conf

logger = logging.getLogger("django_sse.server")

FAST_PATH, DAPHNE = "fast path", "daphne write-through"

# Release series (major, minor) of each library the whole suite has passed on.
TESTED: dict[str, frozenset[tuple[int, int]]] = {
    "Django": frozenset({(5, 2), (6, 1)}),
    "daphne": frozenset({(4, 2)}),
    "Twisted": frozenset({(26, 10)}),
}
NEEDS = {FAST_PATH: ("Django",), DAPHNE: ("daphne", "Twisted")}
BY_SETTING = "SSE_FAST_PATH is False"
NOT_INSTALLED = " is not installed"
DAPHNE_ABSENT = "daphne" + NOT_INSTALLED  # uvicorn: nothing to accelerate, nothing to say


@dataclass(frozen=True, slots=True)
class Private:
    """One name another library does not promise, and what reads it.

    ``where`` is ``module:qualname`` of the class or function; ``params``, for a
    method, the leading parameters it is called with; ``live`` marks a name only
    live objects have (read with a safe default, so not probed at startup).
    """

    acceleration: str
    where: str
    name: str
    use: str
    params: tuple[str, ...] = ()
    live: bool = False


_H = "django.core.handlers"
_T = "twisted.internet"
PRIVATE_NAMES: tuple[Private, ...] = (
    Private(
        FAST_PATH, f"{_H}.asgi:ASGIHandler", "read_body", "the request body", ("self", "receive")
    ),
    Private(
        FAST_PATH,
        f"{_H}.asgi:ASGIHandler",
        "create_request",
        "the request",
        ("self", "scope", "body_file"),
    ),
    Private(
        FAST_PATH,
        f"{_H}.asgi:ASGIHandler",
        "send_response",
        "any other answer",
        ("self", "response", "send"),
    ),
    Private(
        FAST_PATH,
        f"{_H}.asgi:ASGIHandler",
        "chunk_bytes",
        "big chunks split as Django does",
        ("data",),
    ),
    Private(FAST_PATH, f"{_H}.asgi:ASGIHandler", "chunk_size", "the split size"),
    Private(FAST_PATH, f"{_H}.asgi:", "get_script_prefix", "the script prefix", ("scope",)),
    Private(
        FAST_PATH, f"{_H}.base:BaseHandler", "resolve_request", "the view", ("self", "request")
    ),
    Private(
        FAST_PATH, f"{_H}.base:BaseHandler", "make_view_atomic", "ATOMIC_REQUESTS", ("self", "view")
    ),
    Private(
        FAST_PATH,
        f"{_H}.base:BaseHandler",
        "check_response",
        "a view returning None",
        ("self", "response", "callback"),
    ),
    Private(FAST_PATH, f"{_H}.base:", "reset_urlconf", "Django's own request_finished receiver"),
    Private(
        FAST_PATH,
        f"{_H}.exception:",
        "response_for_exception",
        "errors as Django answers them",
        ("request", "exc"),
    ),
    Private(
        FAST_PATH,
        "django.dispatch:Signal",
        "_live_receivers",
        "are only Django's receivers connected",
        ("self", "sender"),
    ),
    Private(
        FAST_PATH,
        "django.http:HttpResponse",
        "_resource_closers",
        "closing a request without request_finished",
    ),
    Private(
        FAST_PATH,
        "django.http:HttpResponseBase",
        "_handler_class",
        "request_finished's sender (written)",
        live=True,
    ),
    Private(
        FAST_PATH,
        "django.utils.deprecation:MiddlewareMixin",
        "__acall__",
        "a middleware's hooks, run inline",
    ),
    Private(
        FAST_PATH,
        "django.http:HttpRequest",
        "_messages",
        "messages to store (default: on the thread)",
        live=True,
    ),
    Private(
        DAPHNE,
        "daphne.http_protocol:WebRequest",
        "handle_reply",
        "patched: write-through, buffer bound",
        ("self", "message"),
    ),
    Private(
        DAPHNE,
        "daphne.http_protocol:WebRequest",
        "channel",
        "the connection's transport",
        live=True,
    ),
    Private(
        DAPHNE,
        "daphne.http_protocol:WebRequest",
        "client_addr",
        "the log line of a closed client",
        live=True,
    ),
    Private(DAPHNE, "twisted.web.http:Request", "startedWriting", "headers sent"),
    Private(DAPHNE, "twisted.web.http:Request", "finished", "response ended"),
    Private(DAPHNE, "twisted.web.http:Request", "_disconnected", "client gone"),
    Private(DAPHNE, "twisted.web.http:Request", "producer", "a paused producer"),
    Private(DAPHNE, "twisted.web.http:Request", "chunked", "chunked framing"),
    Private(DAPHNE, "twisted.web.http:Request", "sentLength", "bytes sent"),
    Private(DAPHNE, f"{_T}.tcp:Connection", "TLS", "TLS keeps Twisted's writes"),
    Private(DAPHNE, f"{_T}.tcp:Connection", "_aborting", "an aborted connection"),
    Private(DAPHNE, f"{_T}.tcp:Connection", "_writeDisconnecting", "a half-closed connection"),
    Private(DAPHNE, f"{_T}.tcp:Connection", "socket", "the socket written to", live=True),
    Private(DAPHNE, f"{_T}.abstract:FileDescriptor", "dataBuffer", "bytes Twisted holds"),
    Private(DAPHNE, f"{_T}.abstract:FileDescriptor", "offset", "bytes Twisted holds"),
    Private(
        DAPHNE, f"{_T}.abstract:FileDescriptor", "_tempDataBuffer", "bytes Twisted holds (instance)"
    ),
    Private(
        DAPHNE, f"{_T}.abstract:FileDescriptor", "_tempDataLen", "bytes Twisted holds (instance)"
    ),
    Private(DAPHNE, f"{_T}.abstract:FileDescriptor", "connected", "a live connection"),
    Private(DAPHNE, f"{_T}.abstract:FileDescriptor", "disconnecting", "a closing connection"),
    Private(DAPHNE, f"{_T}.abstract:FileDescriptor", "producer", "a registered producer"),
    Private(DAPHNE, f"{_T}.abstract:FileDescriptor", "streamingProducer", "a registered producer"),
    Private(DAPHNE, f"{_T}.abstract:FileDescriptor", "producerPaused", "a paused producer"),
    Private(
        DAPHNE,
        f"{_T}.unix:Server",
        "_sendmsgQueue",
        "descriptors passed on Unix sockets",
        live=True,
    ),
)


@dataclass(frozen=True, slots=True)
class Decision:
    """Which accelerations run in this process, and why the others do not."""

    on: frozenset[str]
    reasons: tuple[str, ...]

    @property
    def fast_path(self) -> bool:
        return FAST_PATH in self.on

    @property
    def daphne(self) -> bool:
        return DAPHNE in self.on

    @property
    def surprises(self) -> list[str]:
        """The reasons worth telling an operator (not a setting, not daphne absent)."""
        return [r for r in self.reasons if r != BY_SETTING and not r.endswith(DAPHNE_ABSENT)]


def _series(library: str) -> tuple[int, int] | None:
    try:
        version = importlib.metadata.version(library)
    except importlib.metadata.PackageNotFoundError:
        return None
    major, _, rest = version.partition(".")
    minor = "".join(c for c in rest.partition(".")[0] if c.isdigit())
    return (int(major), int(minor or 0)) if major.isdigit() else None


def _version_problem(library: str) -> str | None:
    series = _series(library)
    if series is None:
        return f"{library}{NOT_INSTALLED}"
    if series not in TESTED[library]:
        tested = ", ".join(f"{a}.{b}" for a, b in sorted(TESTED[library]))
        return f"{library} {importlib.metadata.version(library)} is untested (tested: {tested})"
    return None


def _holder(where: str) -> Any:
    module, _, qualname = where.partition(":")
    target: Any = importlib.import_module(module)
    for part in filter(None, qualname.split(".")):
        target = getattr(target, part)
    return target


def _instance(holder: Any) -> Any:
    """A cheap live object of the classes whose names only instances have."""
    from django.http import HttpResponse
    from twisted.internet.abstract import FileDescriptor

    if holder is FileDescriptor:
        return FileDescriptor(reactor=object())  # type: ignore[arg-type]  # never runs
    if isinstance(holder, type) and issubclass(holder, HttpResponse):
        return HttpResponse()
    return holder


def label(private: Private) -> str:
    """``module.Class.name`` of one private name."""
    return f"{private.where.rstrip(':').replace(':', '.')}.{private.name}"


def shape_problem(private: Private) -> str | None:
    """What is unexpected about one name, or None."""
    try:
        holder = _holder(private.where)
        if not hasattr(holder, private.name) and not hasattr(_instance(holder), private.name):
            return f"{label(private)} is gone"
        if private.params:
            params = tuple(inspect.signature(getattr(holder, private.name)).parameters)
            if params[: len(private.params)] != private.params:
                return f"{label(private)} takes {params}, not {private.params}"
    except Exception as exc:  # an import or a lookup that fails is a shape too
        return f"{label(private)}: {exc!r}"
    return None


def probe(acceleration: str) -> list[str]:
    """Why ``acceleration`` may not run here: versions first, then each name's shape."""
    problems = [p for lib in NEEDS[acceleration] if (p := _version_problem(lib))]
    if problems:
        return problems
    names = [p for p in PRIVATE_NAMES if p.acceleration == acceleration and not p.live]
    return [problem for p in names if (problem := shape_problem(p))]


@functools.cache
def decide() -> Decision:
    """The decision for this process (computed once; no side effects)."""
    if not conf.SSE_FAST_PATH:
        return Decision(frozenset(), (BY_SETTING,))
    on, reasons = set(), []
    for acceleration in NEEDS:
        problems = probe(acceleration)
        if problems:
            reasons.append(f"{acceleration} off: {'; '.join(problems)}")
        else:
            on.add(acceleration)
    return Decision(frozenset(on), tuple(reasons))


def announce(decision: Decision) -> None:
    """Say once in the log what is off and why (not when a setting asked for it)."""
    if unexpected := decision.surprises:
        logger.warning(
            "django-sse runs without some server accelerations (Django's own request path "
            "or daphne's own writes; correct, slower): %s",
            " | ".join(unexpected),
        )


def reset(**kwargs: Any) -> None:
    """Forget the decision: when ``SSE_FAST_PATH`` changes (tests), or when asked."""
    if kwargs.get("setting", "SSE_FAST_PATH") == "SSE_FAST_PATH":
        decide.cache_clear()


setting_changed.connect(reset, dispatch_uid="django_sse.server.gate")

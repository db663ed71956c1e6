"""Make one private name of another library vanish for django-sse only.

A release that renames a name keeps its own code working and leaves ours looking for
the old one. :func:`hide` simulates exactly that: the library's own code still finds
the name; any code of ``django_sse`` (including the gate's probe, ``hasattr`` and
``getattr`` with a default) gets ``AttributeError``. Used in-process by
tests/test_gate.py and in a real daphne by tests/server/asgi.py.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from typing import Any

from django_sse.server.gate import PRIVATE_NAMES, Private, label

_MISSING = object()


def _ours() -> bool:
    """Is the code asking (two frames up: past the descriptor) django-sse's?"""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back  # type: ignore[assignment]
    return frame is not None and str(frame.f_globals.get("__name__", "")).startswith("django_sse")


class _Hidden:
    """A data descriptor in place of a class attribute (or an instance attribute's name)."""

    def __init__(self, name: str, original: Any) -> None:
        self.name = name
        self.original = original

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if _ours():
            raise AttributeError(self.name)
        if obj is not None and self.name in vars(obj):
            return vars(obj)[self.name]
        if self.original is _MISSING:
            raise AttributeError(self.name)
        if hasattr(self.original, "__get__"):
            return self.original.__get__(obj, owner)
        return self.original

    def __set__(self, obj: Any, value: Any) -> None:
        vars(obj)[self.name] = value

    def __delete__(self, obj: Any) -> None:
        vars(obj).pop(self.name, None)


class _HidingModule(types.ModuleType):
    """A module whose attributes in ``_hidden`` vanish for django-sse."""

    _hidden: frozenset[str] = frozenset()

    def __getattribute__(self, name: str) -> Any:
        if name != "_hidden" and name in type(self)._hidden and _ours():
            raise AttributeError(name)
        return super().__getattribute__(name)


def find(text: str) -> Private:
    """The entry of ``PRIVATE_NAMES`` whose label is ``text``."""
    for private in PRIVATE_NAMES:
        if label(private) == text:
            return private
    raise LookupError(text)


def hide(private: Private) -> Callable[[], None]:
    """Hide one name from django-sse; return the function that brings it back."""
    module_name, _, qualname = private.where.partition(":")
    module = importlib.import_module(module_name)
    if not qualname:  # a module-level function
        hidden = type("Hiding", (_HidingModule,), {"_hidden": frozenset({private.name})})
        original_class = module.__class__
        module.__class__ = hidden

        def restore_module() -> None:
            module.__class__ = original_class

        return restore_module
    owner: Any = module
    for part in qualname.split("."):
        owner = getattr(owner, part)
    had = private.name in vars(owner)
    original = vars(owner)[private.name] if had else _MISSING
    if not had:  # inherited, or an instance attribute: look it up along the MRO
        for base in owner.__mro__[1:]:
            if private.name in vars(base):
                original = vars(base)[private.name]
                break
    setattr(owner, private.name, _Hidden(private.name, original))

    def restore() -> None:
        if had:
            setattr(owner, private.name, original)
        else:
            delattr(owner, private.name)

    return restore

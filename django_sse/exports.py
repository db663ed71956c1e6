"""Names a package exports without importing them: looked up on first use.

``django_sse`` and ``django_sse.progress`` must import cleanly before settings are
configured (and, for an app, before the app registry is ready), yet offer their public
names at the top: each module's ``__getattr__`` calls :func:`lookup`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any


def lookup(package: str, homes: Mapping[str, str], name: str) -> Any:
    """``name`` from ``package.<homes[name]>``, importing that module now."""
    home = homes.get(name)
    if home is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{package}.{home}"), name)

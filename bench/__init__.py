"""Benchmarks for django-sse (run the scripts in this folder, not the package)."""

from __future__ import annotations

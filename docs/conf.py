"""Sphinx configuration: the documentation site (``make docs``; ``make test`` builds it
with warnings as errors, so a broken internal link or reference fails CI)."""

from __future__ import annotations

import os
import sys
from importlib.metadata import version as installed_version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "docs.django_settings")

import django  # noqa: E402

django.setup()  # autodoc imports the package, whose modules need settings

project = "django-sse"
author = "the django-sse developers"
copyright = "2026, the django-sse developers"  # noqa: A001
release = installed_version("django-sse-events")
version = ".".join(release.split(".")[:2])

extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "README.md"]
myst_heading_anchors = 3  # links to a heading (`checks.md#django_ssee001`) are checked
myst_enable_extensions = ["colon_fence"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
nitpicky = False

html_theme = "furo"
html_title = "django-sse"
html_static_path = ["_static"]

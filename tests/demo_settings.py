"""The demo's settings on a database of the test's own (for tests/test_demo.py).

``SSE_TEST_DB`` is ``sqlite:<path>`` and ``SSE_TEST_OVERRIDES`` JSON settings, as
``tests.services.Backend`` sets them.
"""

from __future__ import annotations

import json
import os

from demo_project.settings import *  # noqa: F403
from demo_project.settings import DATABASES

DATABASES = {
    "default": {**DATABASES["default"], "NAME": os.environ["SSE_TEST_DB"].partition(":")[2]}
}
globals().update(json.loads(os.environ.get("SSE_TEST_OVERRIDES", "{}")))

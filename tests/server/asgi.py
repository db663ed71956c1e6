from __future__ import annotations

import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.server.settings")

# SSE_TEST_HIDE (a label of django_sse.server.gate.PRIVATE_NAMES): that name vanishes
# for django-sse before anything starts, as a release that renamed it would do.
if hidden := json.loads(os.environ.get("SSE_TEST_OVERRIDES", "{}")).get("SSE_TEST_HIDE"):
    from tests.hiding import find, hide

    hide(find(hidden))

from django_sse.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()

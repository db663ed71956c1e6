from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.server.settings")

from django_sse.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()

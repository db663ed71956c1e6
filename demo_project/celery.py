"""The demo's Celery app: background exports run on a worker when a broker is set.

Start one with ``CELERY_BROKER_URL=redis://127.0.0.1:6379/1 REDIS_URL=redis://127.0.0.1:6379/0
celery -A demo_project worker`` (and the server with the same two variables): the worker
publishes the job's progress and the owner's notification through django-sse's public
API, as a view would. Without ``CELERY_BROKER_URL`` the demo runs exports in a thread.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_project.settings")

app = Celery("demo_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["demo_project"])

"""A background job's latest state: what a page reloaded mid-job shows at once.

The table, ``django_sse_job``, was created by django_sse's own migrations before this
part became optional; this app's migration takes it over without touching it, so
existing databases keep their jobs.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Job(models.Model):
    RUNNING, SUCCEEDED, FAILED, CANCELLED = "running", "succeeded", "failed", "cancelled"
    STATUSES = [(s, s) for s in (RUNNING, SUCCEEDED, FAILED, CANCELLED)]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=STATUSES, default=RUNNING)
    state = models.JSONField(default=dict)
    cancel_requested = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "django_sse_job"

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    def as_dict(self) -> dict[str, object]:
        return {"id": str(self.id), "name": self.name, "status": self.status, **self.state}

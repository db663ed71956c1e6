"""Take over the ``django_sse_job`` table that django_sse's 0002 created (state only)."""

from __future__ import annotations

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

STATUSES = [(s, s) for s in ("running", "succeeded", "failed", "cancelled")]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("django_sse", "0004_job_moves_to_progress"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Job",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        ("name", models.CharField(max_length=100)),
                        (
                            "status",
                            models.CharField(choices=STATUSES, default="running", max_length=20),
                        ),
                        ("state", models.JSONField(default=dict)),
                        ("cancel_requested", models.BooleanField(default=False)),
                        ("created", models.DateTimeField(default=django.utils.timezone.now)),
                        ("updated", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "owner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={"db_table": "django_sse_job"},
                )
            ],
            database_operations=[],
        )
    ]

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USERS = [("alice", "alice", True), ("bob", "bob", False)]


class Command(BaseCommand):
    help = "Create the demo users alice/alice (an admin) and bob/bob."

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model()
        for name, password, staff in DEMO_USERS:
            user, _ = users.objects.get_or_create(username=name)
            user.set_password(password)
            user.is_staff = user.is_superuser = staff
            user.save()
            self.stdout.write(f"user {name} / password {password}")

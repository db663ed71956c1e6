"""The demo's own state: notifications between users, a feed everyone sees, and
the record the batch import demo keeps of its runs.

Each change is stored and published in one transaction: the event rings only
once the row is committed, and a page rendered later shows the row itself.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from django_sse import broadcast, send_to_user

TEXT_MAX_LENGTH = 500  # characters
CARD_EVENT = "card"  # the htmx page swaps in the data of these events (sse-swap)


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications"
    )
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    text = models.CharField(max_length=TEXT_MAX_LENGTH)
    created = models.DateTimeField(auto_now_add=True)
    read = models.BooleanField(default=False)

    # Declared because mypy's Django plugin reads the tests' settings, without this app.
    objects: ClassVar[models.Manager[Notification]] = models.Manager()

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.sender} -> {self.recipient}: {self.text[:40]}"

    def as_event(self) -> dict[str, Any]:
        return {"id": self.pk, "from": self.sender.get_username(), "text": self.text}


class Post(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    text = models.CharField(max_length=TEXT_MAX_LENGTH)
    created = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[models.Manager[Post]] = models.Manager()

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.author}: {self.text[:40]}"

    def as_event(self) -> dict[str, Any]:
        return {"id": self.pk, "author": self.author.get_username(), "text": self.text}


class ImportRun(models.Model):
    """One run of the batch import demo: what its work did, counted as it goes.

    The page shows it under "Recent runs"; a cancelled run stops counting.
    """

    RUNNING, SUCCEEDED, FAILED, CANCELLED = "running", "succeeded", "failed", "cancelled"
    STATUSES = [(s, s) for s in (RUNNING, SUCCEEDED, FAILED, CANCELLED)]

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    total = models.PositiveIntegerField()
    imported = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=STATUSES, default=RUNNING)
    created = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[models.Manager[ImportRun]] = models.Manager()

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"import {self.pk}: {self.status}, {self.imported} of {self.total}"

    def as_event(self) -> dict[str, Any]:
        """What the page's "Recent runs" shows of the run (the `import_run` event)."""
        fields = ("id", "status", "imported", "failed", "total")
        return {name: getattr(self, name) for name in fields}


def notify(sender: Any, recipient: Any, text: str) -> Notification:
    """Store a notification and send it to every open tab of ``recipient``."""
    with transaction.atomic():
        note = Notification.objects.create(sender=sender, recipient=recipient, text=text)
        send_to_user(recipient, note.as_event(), event="notification")
    return note


def mark_all_read(user: Any) -> int:
    """Mark ``user``'s notifications read; the user's other tabs hear of it."""
    with transaction.atomic():
        count = Notification.objects.filter(recipient=user, read=False).update(read=True)
        send_to_user(user, {"unread": 0}, event="read")
    return count


def post_to_feed(author: Any, text: str) -> Post:
    """Store a post and broadcast it to everyone."""
    with transaction.atomic():
        post = Post.objects.create(author=author, text=text)
        broadcast(post.as_event(), event="feed")
    return post


def send_card(sender: Any, recipient: Any, text: str) -> None:
    """Render a card (HTML, escaped as any template) and send it to ``recipient``'s tabs."""
    context = {"sender": sender, "text": text, "sent": timezone.now()}
    send_to_user(recipient, render_to_string("htmx/card.html", context), event=CARD_EVENT)


class Kick(models.Model):
    """Someone kept out of the demo's room until ``until`` (demo_project.rooms)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    until = models.DateTimeField()

    objects: ClassVar[models.Manager[Kick]] = models.Manager()

    def __str__(self) -> str:
        return f"{self.user} until {self.until:%H:%M:%S}"

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from demo_project.models import notify, post_to_feed, send_card


class Command(BaseCommand):
    help = (
        "Post to the demo's feed, notify one user, or send one an htmx card, from outside "
        "the server: run it while the server is down and watch the page catch up on restart."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("text")
        parser.add_argument("--to", metavar="USERNAME", help="notify this user instead")
        parser.add_argument("--card", action="store_true", help="send --to an htmx card")
        parser.add_argument("--as", dest="sender", default="alice", metavar="USERNAME")

    def handle(self, *args: Any, **options: Any) -> None:
        sender = self._user(options["sender"])
        if options["card"]:
            if not options["to"]:
                raise CommandError("--card needs --to USERNAME")
            send_card(sender, self._user(options["to"]), options["text"])
            self.stdout.write(f"card sent to {options['to']}")
        elif options["to"]:
            note = notify(sender, self._user(options["to"]), options["text"])
            self.stdout.write(f"notification {note.pk} sent to {options['to']}")
        else:
            post = post_to_feed(sender, options["text"])
            self.stdout.write(f"post {post.pk} published")

    def _user(self, username: str) -> Any:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}: run `manage.py seed_demo` first")
        return user

"""A publisher process for the concurrency tests (settings from tests.services.Backend).

    python -m tests.publisher KIND TARGET COUNT TAG [--interval SECONDS]

Publishes ``COUNT`` events ``{"tag": TAG, "i": i}`` with the sync API, as a task
queue worker would, and prints the sequence numbers it was given.
"""

from __future__ import annotations

import argparse
import json
import random
import time

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["broadcast", "topic", "user", "mix"])
    parser.add_argument("target")
    parser.add_argument("count", type=int)
    parser.add_argument("tag")
    parser.add_argument("--interval", type=float, default=0.0)
    args = parser.parse_args()
    django.setup()
    import django_sse

    seqs = []
    rng = random.Random(args.tag)
    streams = args.target.split(",")
    for i in range(args.count):
        data: dict[str, object] = {"tag": args.tag, "i": i, "t": time.time()}
        if args.kind == "mix":  # TARGET: comma-separated stream names to pick from
            seqs.append(_publish_to(rng.choice(streams), data))
        elif args.kind == "broadcast":
            seqs.append(django_sse.broadcast(data))
        elif args.kind == "topic":
            seqs.append(django_sse.send_to_stream(args.target, data))
        else:
            seqs.append(django_sse.send_to_user(int(args.target), data))
        if args.interval:
            time.sleep(args.interval)
    print(json.dumps(seqs))


def _publish_to(stream: str, data: dict[str, object]) -> int | None:
    import django_sse

    kind, _, name = stream.partition(":")
    if kind == "user":
        return django_sse.send_to_user(int(name), data)
    if kind == "topic":
        return django_sse.send_to_stream(name, data)
    return django_sse.broadcast(data)


if __name__ == "__main__":
    main()

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
    parser.add_argument("kind", choices=["broadcast", "topic", "user", "mix", "bulk", "users"])
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
    if args.kind in ("bulk", "users"):
        seqs = _publish_bulk(args.kind, args.target, args.count, args.tag)
    for i in range(args.count if args.kind not in ("bulk", "users") else 0):
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


BULK_BATCH = 10  # events per publish_many call of the "bulk" kind


def _publish_bulk(kind: str, target: str, count: int, tag: str) -> list[int | None]:
    """``bulk``: COUNT events to topic TARGET in publish_many batches; ``users``: one
    send_to_users call to the comma-separated primary keys TARGET (COUNT ignored)."""
    import django_sse

    if kind == "users":
        pks = [int(pk) for pk in target.split(",")]
        return list(django_sse.send_to_users(pks, {"tag": tag}).values())
    seqs: list[int | None] = []
    for start in range(0, count, BULK_BATCH):
        batch = range(start, min(start + BULK_BATCH, count))
        messages = [django_sse.Message.to_topic(target, {"tag": tag, "i": i}) for i in batch]
        seqs += django_sse.publish_many(messages)
    return seqs


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

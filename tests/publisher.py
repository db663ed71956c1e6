"""A publisher process for the concurrency tests (settings from tests.services.Backend).

    python -m tests.publisher KIND TARGET COUNT TAG [--interval SECONDS]

Publishes ``COUNT`` events ``{"tag": TAG, "i": i}`` with the sync API, as a task
queue worker would, and prints the sequence numbers it was given.
"""

from __future__ import annotations

import argparse
import json
import time

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["broadcast", "topic", "user"])
    parser.add_argument("target")
    parser.add_argument("count", type=int)
    parser.add_argument("tag")
    parser.add_argument("--interval", type=float, default=0.0)
    args = parser.parse_args()
    django.setup()
    import django_sse

    seqs = []
    for i in range(args.count):
        data = {"tag": args.tag, "i": i}
        if args.kind == "broadcast":
            seqs.append(django_sse.broadcast(data))
        elif args.kind == "topic":
            seqs.append(django_sse.send_to_stream(args.target, data))
        else:
            seqs.append(django_sse.send_to_user(int(args.target), data))
        if args.interval:
            time.sleep(args.interval)
    print(json.dumps(seqs))


if __name__ == "__main__":
    main()

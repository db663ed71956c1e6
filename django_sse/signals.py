"""Signals about open streams, enough to build presence on.

Both are sent with ``asend`` from the process serving the stream: receivers may be
async, or sync (then they run on a worker thread and may use the ORM). Arguments:
``connection_id`` (a str that pairs the two), ``user`` (possibly anonymous) and
``streams`` (the sorted stream names). ``connection_closed`` is sent however the
stream ended: client gone, maximum age, logout, shutdown.
"""

from __future__ import annotations

from django.dispatch import Signal

connection_opened = Signal()
connection_closed = Signal()

# Sent as each event rings (after its transaction commits), with ``stream``, ``seq``
# (None for an ephemeral event), ``frame`` (the encoded bytes) and ``bulk`` (True when
# it came from send_to_users / publish_many). Receivers run
# inline, on the publisher's path: keep them sync and quick. django_sse.testing's
# capture_events() is built on it.
event_published = Signal()

# Sent by ``django_sse.models.prune()`` (``manage.py sse_prune``) once the log is
# pruned, with ``deleted`` (rows removed). The progress app fails abandoned jobs on it.
log_pruned = Signal()

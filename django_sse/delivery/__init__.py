"""Delivery: from the channel layer and the log to each open stream.

Plain Django, Channels and asyncio: the hub and its repair, keepalive, recent frames,
subscriptions, the ticker, limits, a stream's connection, direct send, the database
threads, log watching and shutdown. It never imports the public surface or
``django_sse.server`` (``make lint`` checks it). See docs/architecture.md.
"""

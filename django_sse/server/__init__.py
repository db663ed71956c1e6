"""Server accelerations: the only place that touches ``django.core.handlers``, daphne,
Twisted, or a private name of any other library.

Everything here is behind :mod:`django_sse.server.gate`: outside the versions the suite
has run against, on a shape it does not expect, or with ``SSE_FAST_PATH = False``, the
site runs on Django's own request path and daphne's own writes. Nothing below imports
this package; ``django_sse.asgi.get_asgi_application`` is its entry point.
"""

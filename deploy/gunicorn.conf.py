"""gunicorn settings for production and for `make run`.

SQLite allows one writer at a time, so a few workers with threads serve best: requests are
short and mostly reads. The same holds for each of several nodes on PostgreSQL (each node
binds its own address with GUNICORN_BIND and trusts nginx's with
GUNICORN_FORWARDED_ALLOW_IPS; deploy/README.md). Override with GUNICORN_* environment
variables.

Slow clients: the ``gthread`` worker keeps idle kept-alive connections in its poller, not in
a thread, and gives up on a new connection that sends nothing within 5 s (it goes back to
the poller). Still, such a connection holds a thread for those 5 s, and a client trickling
a request holds one for as long as it trickles: gunicorn alone does not resist a slow
client. So in production it listens on loopback only, and nginx (``nginx-pickup.conf``)
reads each request whole, within its own timeouts, before passing it on. The app limits
the size of a body (``PICKUP_MAX_REQUEST_KB``).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
# Connections a worker keeps open at once (kept-alive and waiting ones included).
worker_connections = 200
# A worker silent this long is killed and replaced; a request should never take this long.
timeout = 30
graceful_timeout = 20
# An idle kept-alive connection is closed after this many seconds.
keepalive = 5
# Request line and headers: what a browser, a scanner or Twilio sends fits well inside.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
# Logs go to the journal; the access log format leaves out query strings, which may hold
# voucher codes.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

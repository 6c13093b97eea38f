"""gunicorn settings. Threads, not sync workers: a long upload must not be killed after 30 s.

https://docs.gunicorn.org/en/stable/settings.html
"""

import os

bind = f"{os.environ.get('FILEFLOW_HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("FILEFLOW_THREADS", "8"))
# A worker that says nothing for this long is restarted; uploads stream, so this is idle time.
timeout = int(os.environ.get("FILEFLOW_WORKER_TIMEOUT", "300"))
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket lives at one path per user ($HOME/.gunicorn/gunicorn.ctl), so two
# servers on one machine (tests, benchmarks, several instances) would fight over it.
control_socket_disable = True

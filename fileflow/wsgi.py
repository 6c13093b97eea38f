"""WSGI entry point (gunicorn ``fileflow.wsgi``)."""

import os
import sys
from importlib import import_module

from fileflow.config import ConfigError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fileflow.settings")

try:
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    # The URLconf, and every view module it imports, loads as the worker starts rather than
    # in the first request it serves, which that delayed by ~0.15 s (bench/transfer.py).
    import_module(settings.ROOT_URLCONF)
except ConfigError as exc:
    sys.exit(f"FileFlow cannot start: {exc}")

"""WSGI entry point (gunicorn ``fileflow.wsgi``)."""

import os
import sys

from fileflow.config import ConfigError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fileflow.settings")

try:
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
except ConfigError as exc:
    sys.exit(f"FileFlow cannot start: {exc}")

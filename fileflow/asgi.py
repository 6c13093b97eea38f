"""ASGI entry point."""

import os
import sys

from fileflow.config import ConfigError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fileflow.settings")

try:
    from django.core.asgi import get_asgi_application

    application = get_asgi_application()
except ConfigError as exc:
    sys.exit(f"FileFlow cannot start: {exc}")

#!/usr/bin/env python
"""FileFlow's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fileflow.settings")
    from fileflow.config import ConfigError

    try:
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018 - loads the settings now, to report bad values
    except ConfigError as exc:
        sys.exit(f"FileFlow cannot start: {exc}")

    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

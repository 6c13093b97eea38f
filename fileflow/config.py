"""Reading FileFlow's settings from the environment.

Every value an operator can set passes through one of the readers here. A malformed
value raises :class:`ConfigError` with one line that names the variable and says what
was expected; ``manage.py`` and the WSGI entry point print that line and exit instead
of showing a traceback.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured


class ConfigError(Exception):
    """A setting in the environment is missing or malformed."""


_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_UNLIMITED = {"", "none", "unlimited", "off"}

_env = environ.Env()


def _raw(name: str) -> str | None:
    return os.environ.get(name)


def parse_size(name: str, value: str) -> int | None:
    """Parse ``10737418240``, ``10GB``, ``512 MiB`` or ``unlimited`` into bytes or None."""
    if value.strip().lower() in _UNLIMITED:
        return None
    match = _SIZE_RE.match(value)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _SIZE_UNITS:
        raise ConfigError(
            f"{name}={value!r} is not a size: use a number of bytes such as 10737418240, "
            "a number with a unit (500MB, 10GiB) or 'unlimited'."
        )
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


def size(name: str, default: str) -> int | None:
    return parse_size(name, _raw(name) or default)


def boolean(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={value!r} is not a yes/no value: use true or false.")


def integer(name: str, default: int, *, minimum: int = 0) -> int:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number.") from None
    if number < minimum:
        raise ConfigError(f"{name}={value!r} must be at least {minimum}.")
    return number


_DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(name: str, default: str) -> timedelta:
    """Parse ``86400``, ``90s``, ``30m``, ``24h`` or ``7d`` into a positive duration."""
    value = _raw(name) or default
    match = _DURATION_RE.match(value.lower())
    if not match or int(match.group(1)) < 1:
        raise ConfigError(
            f"{name}={value!r} is not a duration: use seconds (86400) or a number with "
            "s, m, h or d (24h, 7d), at least 1."
        )
    return timedelta(seconds=int(match.group(1)) * _DURATION_UNITS[match.group(2)])


def string(name: str, default: str = "") -> str:
    return _raw(name) or default


def string_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in (_raw(name) or default).split(",") if item.strip()]


def choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (_raw(name) or default).strip().lower()
    if value not in choices:
        raise ConfigError(f"{name}={_raw(name)!r} is not one of: {', '.join(choices)}.")
    return value


def data_dir(base_dir: Path) -> Path:
    """The folder holding the SQLite database, local blobs, temp uploads and the key file."""
    path = Path(_raw("FILEFLOW_DATA_DIR") or "var")
    if not path.is_absolute():
        path = base_dir / path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"FILEFLOW_DATA_DIR={str(path)!r} cannot be created: {exc.strerror}."
        ) from None
    if not path.is_dir():
        raise ConfigError(f"FILEFLOW_DATA_DIR={str(path)!r} is not a folder.")
    return path


def database(data: Path) -> dict[str, Any]:
    """``DATABASES['default']`` from ``DATABASE_URL``: SQLite in the data dir unless set."""
    url = _raw("DATABASE_URL") or f"sqlite:///{data / 'db.sqlite3'}"
    scheme = urlsplit(url).scheme
    engines = {
        "sqlite": "django.db.backends.sqlite3",
        "postgres": "django.db.backends.postgresql",
        "postgresql": "django.db.backends.postgresql",
        "pgsql": "django.db.backends.postgresql",
    }
    if scheme not in engines:
        raise ConfigError(
            f"DATABASE_URL={url!r} is not a database URL FileFlow supports: "
            "use sqlite:////absolute/path.sqlite3 or postgres://user:password@host:5432/name."
        )
    try:
        config = _env.db_url_config(url)
    except (ValueError, TypeError, ImproperlyConfigured) as exc:
        raise ConfigError(f"DATABASE_URL={url!r} cannot be parsed: {exc}.") from None
    config["ENGINE"] = engines[scheme]
    # https://docs.djangoproject.com/en/6.1/ref/databases/#persistent-connections
    # Kept by each server thread between requests, on SQLite too: opening one (and running
    # its pragmas) cost ~1 ms of the ~6 ms a small PUT took (bench/transfer.py).
    config["CONN_MAX_AGE"] = integer("DATABASE_CONN_MAX_AGE", 60)
    config["CONN_HEALTH_CHECKS"] = True
    if scheme == "sqlite":
        if not config.get("NAME"):
            raise ConfigError(f"DATABASE_URL={url!r} names no database file.")
        # https://docs.djangoproject.com/en/6.1/ref/databases/#sqlite-transaction-behavior
        # IMMEDIATE takes the write lock at BEGIN, which is what serialises tree writes;
        # WAL lets readers carry on while one writer works.
        # Tests use a file too: an in-memory database cannot show how concurrent writers
        # behave under WAL, IMMEDIATE transactions and the busy timeout.
        config["TEST"] = {"NAME": str(data / "test-db.sqlite3")}
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
    else:
        if not config.get("NAME"):
            raise ConfigError(f"DATABASE_URL={url!r} names no database (the path after /).")
        # https://www.postgresql.org/docs/current/jit-decision.html
        # JIT compiles a query whose estimated cost passes jit_above_cost; a name search over
        # shared folders is estimated high (the access check's subplans), so PostgreSQL spent
        # 1.7 s compiling a query that runs in 0.2 s (bench/people.py). FileFlow's queries are
        # short: JIT is off for its connections. Options given in DATABASE_URL are kept.
        options = config.setdefault("OPTIONS", {})
        options["options"] = f"-c jit=off {options.get('options', '')}".strip()
    return config


def mailers() -> dict[str, Any]:
    """Django's ``MAILERS`` from ``EMAIL_URL`` (console by default, so reset links are logged)."""
    url = _raw("EMAIL_URL") or "consolemail://"
    try:
        config = _env.email_url_config(url)
    except (ValueError, TypeError, KeyError, ImproperlyConfigured) as exc:
        raise ConfigError(
            f"EMAIL_URL={url!r} is not an e-mail URL ({exc}): use consolemail://, "
            "smtp://user:password@host:587 or smtp+tls://user:password@host:587."
        ) from None
    backend = config.get("EMAIL_BACKEND")
    if not backend:
        raise ConfigError(
            f"EMAIL_URL={url!r} is not an e-mail URL: use consolemail://, "
            "smtp://user:password@host:587 or smtp+tls://user:password@host:587."
        )
    options: dict[str, Any] = {}
    if backend.endswith("smtp.EmailBackend"):
        # https://docs.djangoproject.com/en/6.1/topics/email/#smtp-backend
        options = {
            "host": config.get("EMAIL_HOST") or "localhost",
            "port": config.get("EMAIL_PORT") or 25,
            "username": config.get("EMAIL_HOST_USER") or "",
            "password": config.get("EMAIL_HOST_PASSWORD") or "",
            "use_tls": bool(config.get("EMAIL_USE_TLS")),
            "use_ssl": bool(config.get("EMAIL_USE_SSL")),
            "timeout": 20,
        }
    return {"default": {"BACKEND": backend, "OPTIONS": options}}


def secret_key(data: Path, *, debug: bool) -> str:
    """``DJANGO_SECRET_KEY``, or a key generated once into the data dir."""
    value = _raw("DJANGO_SECRET_KEY")
    if value:
        if not debug and len(value) < 32:
            raise ConfigError("DJANGO_SECRET_KEY is too short: use at least 50 random characters.")
        return value
    key_file = data / "secret_key"
    try:
        if not key_file.exists():
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
        key = key_file.read_text().strip()
    except FileExistsError:
        key = key_file.read_text().strip()
    except OSError as exc:
        raise ConfigError(
            f"DJANGO_SECRET_KEY is not set and the key file {key_file} cannot be created "
            f"({exc.strerror}): set DJANGO_SECRET_KEY."
        ) from None
    if not key:
        raise ConfigError(f"DJANGO_SECRET_KEY is not set and {key_file} is empty.")
    return key


def storages(data: Path) -> dict[str, Any]:
    """Django's ``STORAGES``: blobs on local disk under the data dir, or in an S3 bucket."""
    backend = choice("FILEFLOW_STORAGE", "local", ("local", "s3"))
    static = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
    if backend == "local":
        return {
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(data / "blobs"), "base_url": None},
            },
            "staticfiles": static,
        }
    bucket = _raw("AWS_STORAGE_BUCKET_NAME")
    if not bucket:
        raise ConfigError("AWS_STORAGE_BUCKET_NAME must be set when FILEFLOW_STORAGE=s3.")
    endpoint = _raw("AWS_S3_ENDPOINT_URL")
    if endpoint and urlsplit(endpoint).scheme not in {"http", "https"}:
        raise ConfigError(
            f"AWS_S3_ENDPOINT_URL={endpoint!r} is not an http(s) URL such as https://s3.example.com."
        )
    # https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html#settings
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "endpoint_url": endpoint or None,
        "region_name": _raw("AWS_S3_REGION_NAME") or None,
        "access_key": _raw("AWS_ACCESS_KEY_ID") or None,
        "secret_key": _raw("AWS_SECRET_ACCESS_KEY") or None,
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": True,
        # Spool reads to disk past 8 MB so a download never holds a whole object in memory.
        "max_memory_size": 8 * 1024 * 1024,
        "addressing_style": _raw("AWS_S3_ADDRESSING_STYLE") or None,
        # Presigned URLs with Signature Version 4: the only one newer AWS regions and many
        # S3-compatible stores accept.
        "signature_version": _raw("AWS_S3_SIGNATURE_VERSION") or "s3v4",
    }
    return {
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
        "staticfiles": static,
    }

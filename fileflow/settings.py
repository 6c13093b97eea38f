"""FileFlow settings, read from the environment.

Every variable is listed with its default in the README's configuration table. Values are
parsed by :mod:`fileflow.config`, which stops start-up with one clear line on a bad value.
"""

from datetime import timedelta
from pathlib import Path

from fileflow import config

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = config.data_dir(BASE_DIR)

DEBUG = config.boolean("DJANGO_DEBUG", False)
SECRET_KEY = config.secret_key(DATA_DIR, debug=DEBUG)
# Earlier keys still accepted for what they signed (sessions, password-reset and share-link
# tokens) while everything new uses SECRET_KEY.
# https://docs.djangoproject.com/en/6.1/ref/settings/#secret-key-fallbacks
SECRET_KEY_FALLBACKS = config.string_list("DJANGO_SECRET_KEY_FALLBACKS", "")
ALLOWED_HOSTS = config.string_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = config.string_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Full-text search types and expressions on PostgreSQL (search.BlobText); inert on SQLite.
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_tasks_db",
    "accounts",
    "files",
    "sharing",
    "search",
    "jobs",
    "webdav",
    "uploads",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Axes must come last: it turns a locked-out log-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fileflow.urls"
WSGI_APPLICATION = "fileflow.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fileflow.context_processors.fileflow",
                "search.context_processors.saved_searches",
                "sharing.context_processors.shared_with_me",
            ],
            # |when and |with_times in every template: one way to write a moment.
            "builtins": ["fileflow.formats"],
        },
    },
]

DATABASES = {"default": config.database(DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STORAGES = config.storages(DATA_DIR)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first, so a locked-out account or address is refused before the password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# https://docs.djangoproject.com/en/6.1/topics/auth/passwords/#using-argon2-with-django
# Argon2 hashes new passwords; bcrypt hashes (the seed's) are accepted and upgraded on log-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Failed log-ins: locked per account and, separately, per address.
# https://django-axes.readthedocs.io/en/latest/4_configuration.html
AXES_FAILURE_LIMIT = config.integer("FILEFLOW_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(
    minutes=config.integer("FILEFLOW_LOGIN_COOLOFF_MINUTES", 15, minimum=1)
)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
# Behind a proxy (Render, nginx) the client address is the first X-Forwarded-For entry.
AXES_IPWARE_PROXY_COUNT = config.integer("FILEFLOW_PROXY_COUNT", 0)
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if AXES_IPWARE_PROXY_COUNT else ("REMOTE_ADDR",)
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = config.string("FILEFLOW_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Collected at build time into the code's folder, not the data dir: a deployment's data
# disk is mounted only when the service runs.
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

# Uploads: Django spools request bodies over 2.5 MB to this folder, kept on the data dir's
# file system so that a finished upload moves into local blob storage by rename.
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
# The most files one request may carry, and so the largest batch of
# files.services.file_upload_batch (POST /api/v1/nodes/upload-many/); more are refused with a
# message saying so.
DATA_UPLOAD_MAX_NUMBER_FILES = 1000

FILEFLOW_DEFAULT_QUOTA = config.size("FILEFLOW_DEFAULT_QUOTA", "unlimited")
FILEFLOW_MAX_UPLOAD_SIZE = config.size("FILEFLOW_MAX_UPLOAD_SIZE", "unlimited")
FILEFLOW_SIGNUP_ENABLED = config.boolean("FILEFLOW_SIGNUP_ENABLED", True)
# Trash entries older than this are purged by `manage.py purge_trash`.
FILEFLOW_TRASH_DAYS = config.integer("FILEFLOW_TRASH_DAYS", 30, minimum=1)
FILEFLOW_ACTIVITY_DAYS = config.integer("FILEFLOW_ACTIVITY_DAYS", 365, minimum=1)
# Unreferenced blobs and stale temp uploads younger than this are left alone by `gc`, so a
# racing upload never loses its content.
FILEFLOW_GC_GRACE_HOURS = config.integer("FILEFLOW_GC_GRACE_HOURS", 24, minimum=1)
# Resumable (tus) uploads not finished within this time are abandoned; `gc` removes them.
FILEFLOW_UPLOAD_EXPIRY = config.duration("FILEFLOW_UPLOAD_EXPIRY", "24h")
# The web page sends files at least this large through tus (resumable), smaller ones plainly.
FILEFLOW_TUS_THRESHOLD = config.size("FILEFLOW_TUS_THRESHOLD", "8MiB")
# Delivery: behind nginx, hand local files over with X-Accel-Redirect under this internal
# location (empty: gunicorn sends them itself, with sendfile).
FILEFLOW_X_ACCEL_REDIRECT_PREFIX = config.string("FILEFLOW_X_ACCEL_REDIRECT_PREFIX", "")
# S3: redirect downloads to a short-lived presigned URL instead of proxying the bytes.
FILEFLOW_S3_PRESIGNED_REDIRECT = config.boolean("FILEFLOW_S3_PRESIGNED_REDIRECT", False)
FILEFLOW_S3_PRESIGNED_SECONDS = config.integer("FILEFLOW_S3_PRESIGNED_SECONDS", 300, minimum=10)
# Thumbnails: images with more pixels than this are not decoded (decompression bombs).
FILEFLOW_THUMBNAIL_MAX_PIXELS = config.integer("FILEFLOW_THUMBNAIL_MAX_PIXELS", 50_000_000)
# Drawing a PDF's first page for its thumbnail stops after this many seconds (files.pdf).
FILEFLOW_THUMBNAIL_TIMEOUT_SECONDS = config.integer(
    "FILEFLOW_THUMBNAIL_TIMEOUT_SECONDS", 10, minimum=1
)
FILEFLOW_HTTPS = config.boolean("FILEFLOW_HTTPS", False)
# WebDAV (/dav/): accept the account password besides personal access tokens.
FILEFLOW_DAV_ALLOW_PASSWORD = config.boolean("FILEFLOW_DAV_ALLOW_PASSWORD", True)

# Background work: Django's tasks framework with the database backend; `manage.py db_worker`
# runs the tasks (https://docs.djangoproject.com/en/6.1/topics/tasks/).
# django-tasks-db, with a cheaper enqueue (jobs/backend.py).
TASKS = {"default": {"BACKEND": "jobs.backend.DatabaseBackend", "QUEUES": ["default"]}}
# A task that raises is run again after a pause, until it has been tried this many times.
FILEFLOW_TASK_MAX_ATTEMPTS = config.integer("FILEFLOW_TASK_MAX_ATTEMPTS", 3, minimum=1)
# Search inside documents: at most this much text is kept per content, and reading one
# document stops after this many seconds (it is then marked unreadable).
FILEFLOW_TEXT_MAX_BYTES = config.size("FILEFLOW_TEXT_MAX_BYTES", "1MB") or 1_000_000
FILEFLOW_TEXT_TIMEOUT_SECONDS = config.integer("FILEFLOW_TEXT_TIMEOUT_SECONDS", 30, minimum=1)
# PostgreSQL text search configuration (`simple` keeps every word as written, for any
# language; `english`, `german`, ... also match other forms of a word). Run
# `manage.py reindex` after changing it.
FILEFLOW_SEARCH_CONFIG = config.string("FILEFLOW_SEARCH_CONFIG", "simple")

MAILERS = config.mailers()
DEFAULT_FROM_EMAIL = config.string("DEFAULT_FROM_EMAIL", "FileFlow <fileflow@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer first: its WWW-Authenticate header makes a bad token a 401, not a 403.
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "fileflow.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "fileflow.pagination.Pagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "FileFlow API",
    "DESCRIPTION": (
        "Files, folders, share links and saved searches of a FileFlow account. "
        "Authenticate with `Authorization: Bearer <token>` (tokens are made on the account page "
        "or at /api/v1/tokens/) or with the browser session."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["fileflow.schema.register_extensions"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "fileflow.schema.add_error_responses",
    ],
}

# Content Security Policy for our own pages (Django 6 built-in). User content served
# inline gets a stricter, sandboxed policy of its own where it is delivered.
SECURE_CSP = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:"],
    "media-src": ["'self'", "blob:"],
    "style-src": ["'self'"],
    "script-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}

# A refused CSRF check gets the app's error page (JSON under /api/), not Django's bare one.
CSRF_FAILURE_VIEW = "fileflow.handlers.csrf_failure"

# Pages are never framed; the few that must be (previews) opt in per view.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if FILEFLOW_HTTPS:
    # https://docs.djangoproject.com/en/6.1/howto/deployment/checklist/#https
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = config.integer("FILEFLOW_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": config.string("FILEFLOW_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

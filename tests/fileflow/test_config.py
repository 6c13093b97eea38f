"""A malformed environment stops start-up with one clear line naming the variable."""

import pytest
from django.db import connection

from fileflow.config import ConfigError, database, parse_size
from tests.utils import fresh_env, run_python


def run_manage(tmp_path, **env):
    return run_python(["manage.py", "check"], fresh_env(tmp_path / "data", **env))


@pytest.mark.parametrize(
    ("env", "variable", "hint"),
    [
        ({"DATABASE_URL": "mysql-ish://nope"}, "DATABASE_URL", "postgres://"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL", "sqlite:"),
        ({"FILEFLOW_STORAGE": "ftp"}, "FILEFLOW_STORAGE", "local, s3"),
        ({"FILEFLOW_STORAGE": "s3"}, "AWS_STORAGE_BUCKET_NAME", "must be set"),
        (
            {
                "FILEFLOW_STORAGE": "s3",
                "AWS_STORAGE_BUCKET_NAME": "b",
                "AWS_S3_ENDPOINT_URL": "s3.local",
            },
            "AWS_S3_ENDPOINT_URL",
            "http(s)",
        ),
        ({"FILEFLOW_DEFAULT_QUOTA": "lots"}, "FILEFLOW_DEFAULT_QUOTA", "not a size"),
        ({"FILEFLOW_MAX_UPLOAD_SIZE": "12 parsecs"}, "FILEFLOW_MAX_UPLOAD_SIZE", "not a size"),
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG", "true or false"),
        ({"FILEFLOW_SIGNUP_ENABLED": "sometimes"}, "FILEFLOW_SIGNUP_ENABLED", "true or false"),
        ({"EMAIL_URL": "pigeon://coop"}, "EMAIL_URL", "e-mail URL"),
        ({"FILEFLOW_LOGIN_FAILURE_LIMIT": "five"}, "FILEFLOW_LOGIN_FAILURE_LIMIT", "whole number"),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY", "too short"),
    ],
)
def test_bad_environment_value_gives_one_clear_line(tmp_path, env, variable, hint):
    result = run_manage(tmp_path, **env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("FileFlow cannot start: ")
    assert variable in lines[0]
    assert hint in lines[0]
    assert "Traceback" not in result.stderr


def test_data_dir_that_is_a_file_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_manage(tmp_path, FILEFLOW_DATA_DIR=str(blocker))
    assert result.returncode != 0
    assert result.stderr.strip().startswith("FileFlow cannot start: FILEFLOW_DATA_DIR=")


def test_good_environment_starts_and_generates_a_private_secret_key(tmp_path):
    result = run_manage(tmp_path, FILEFLOW_DEFAULT_QUOTA="10GiB", DJANGO_DEBUG="false")
    assert result.returncode == 0, result.stderr
    key_file = tmp_path / "data" / "secret_key"
    assert len(key_file.read_text()) >= 50
    assert key_file.stat().st_mode & 0o077 == 0
    # The same key is used on the next start.
    key = key_file.read_text()
    assert run_manage(tmp_path).returncode == 0
    assert key_file.read_text() == key


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1024", 1024),
        ("10GB", 10 * 1000**3),
        ("10 GiB", 10 * 1024**3),
        ("1.5MiB", int(1.5 * 1024**2)),
        ("unlimited", None),
        ("", None),
        ("none", None),
    ],
)
def test_sizes(value, expected):
    assert parse_size("X", value) == expected


@pytest.mark.parametrize("value", ["-5", "ten", "5 zb", "1e3"])
def test_bad_sizes(value):
    with pytest.raises(ConfigError, match="X="):
        parse_size("X", value)


def test_production_settings_pass_check_deploy(tmp_path):
    env = fresh_env(
        tmp_path / "data",
        DJANGO_SECRET_KEY="k" * 20 + "a-long-random-looking-production-secret-9f8e7d6c5b4a",
        FILEFLOW_HTTPS="true",
        DJANGO_ALLOWED_HOSTS="files.example.com",
        EMAIL_URL="smtp+tls://mailer:secret@mail.example.com:587",
    )
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_postgresql_connections_run_without_jit(monkeypatch, tmp_path):
    """JIT compilation cost 1.7 s on a 0.2 s search (bench/people.py); options in the URL
    are kept alongside."""

    def options(url: str) -> str:
        monkeypatch.setenv("DATABASE_URL", url)
        return database(tmp_path)["OPTIONS"]["options"]

    assert options("postgres://u:p@localhost:5432/db") == "-c jit=off"
    kept = options("postgres://u:p@localhost:5432/db?options=-c%20work_mem%3D64MB")
    assert kept == "-c jit=off -c work_mem=64MB"


@pytest.mark.parametrize("url", ["sqlite:////tmp/x.sqlite3", "postgres://u:p@localhost:5432/db"])
def test_database_connections_are_kept_between_requests(monkeypatch, tmp_path, url):
    """On SQLite too: opening a connection (and running its pragmas) cost ~1 ms of a 4 KiB
    PUT's ~6 ms (bench/transfer.py)."""
    monkeypatch.setenv("DATABASE_URL", url)
    kept = database(tmp_path)
    assert kept["CONN_MAX_AGE"] == 60 and kept["CONN_HEALTH_CHECKS"] is True
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "0")
    assert database(tmp_path)["CONN_MAX_AGE"] == 0


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
def test_the_live_postgresql_connection_has_jit_off():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


def test_a_server_worker_loads_the_urls_and_views_before_its_first_request(tmp_path):
    """Else the first request each worker serves pays ~0.15 s of imports."""
    code = (
        "import sys; import fileflow.wsgi; "
        "print('fileflow.urls' in sys.modules, 'files.api.views' in sys.modules)"
    )
    result = run_python(["-c", code], fresh_env(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]

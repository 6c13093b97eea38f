import json

import botocore.config
import pytest

from tests.utils import fresh_env, run_python

pytestmark = pytest.mark.django_db


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "storage": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_503_when_storage_is_unusable(client, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the blob folder should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocker / "blobs")},
        },
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["failing"] == ["storage"]
    assert body["checks"]["database"] == "ok"


def test_healthz_503_when_storage_bucket_does_not_answer(client, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "fileflow",
                "endpoint_url": "http://127.0.0.1:9",
                "access_key": "x",
                "secret_key": "y",
                "region_name": "us-east-1",
                "client_config": botocore.config.Config(
                    connect_timeout=1, retries={"max_attempts": 1}
                ),
            },
        },
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["storage"]


def test_healthz_503_when_database_does_not_answer(tmp_path):
    """A server whose database file cannot be opened reports it instead of crashing."""
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    env = fresh_env(
        tmp_path / "data",
        DJANGO_SETTINGS_MODULE="fileflow.settings",
        DATABASE_URL=f"sqlite:///{tmp_path}/missing-folder/db.sqlite3",
        DJANGO_ALLOWED_HOSTS="testserver",
    )
    result = run_python(["-c", script], env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["body"]["failing"] == ["database"]
    assert answer["body"]["checks"]["storage"] == "ok"

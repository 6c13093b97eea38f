"""A web worker starts without the libraries most requests never use.

Each of these costs a worker several MiB for as long as it lives (boto3 and botocore ~9,
wsgidav with lxml ~14, pypdfium2 ~4, Pillow ~3): they are imported where they are used —
the S3 store, the first /dav/ request, a thumbnail or a PDF's text, the schema pages. This
structural guard keeps the worker memory figure in the README (bench/transfer.py) true.
"""

import json

from tests.utils import fresh_env, run_python

# A gunicorn worker: the WSGI application with every URLconf loaded (``include()`` imports
# each app's urls and views), as its first request leaves it.
WORKER = """
import json, sys
import fileflow.wsgi
from django.urls import get_resolver
get_resolver().url_patterns
print(json.dumps(sorted(sys.modules)))
"""

NOT_AT_START = (
    "boto3",
    "botocore",
    "storages.backends.s3",
    "pypdfium2",
    "PIL",
    "wsgidav",
    "lxml",
    "drf_spectacular.views",
)


def test_a_web_worker_on_local_disk_starts_without_s3_pdf_image_webdav_or_schema_code(
    tmp_path,
):
    env = fresh_env(tmp_path, FILEFLOW_STORAGE="local", DJANGO_SETTINGS_MODULE="fileflow.settings")
    result = run_python(["-c", WORKER], env)
    assert result.returncode == 0, result.stderr
    modules = json.loads(result.stdout.strip().splitlines()[-1])
    assert "fileflow.urls" in modules and "files.api.views" in modules  # it did load the app
    loaded = {
        name
        for name in modules
        for package in NOT_AT_START
        if name == package or name.startswith(package + ".")
    }
    assert not loaded, f"imported at start-up: {sorted(loaded)}"

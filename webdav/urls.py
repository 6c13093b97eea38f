from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

app_name = "webdav"


@csrf_exempt  # as webdav.views.dav is (see there why)
def dav(request: HttpRequest, path: str | None = None) -> HttpResponseBase:
    """The mount's entry: wsgidav and our provider (several MiB) are imported by the first
    /dav/ request a worker serves, not when it starts."""
    from webdav import views

    return views.dav(request, path=path)


# Mounted at "dav" (fileflow/urls.py): "/dav", "/dav/" and everything below.
urlpatterns: list[Any] = [re_path(r"^(?P<path>/.*)?$", dav, name="root")]

from django.contrib import admin
from django.urls import include, path, re_path

from fileflow import health, schema
from files.views import browser as files_browser

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("files.api.urls")),
    path("", include("search.api.urls")),
    path("", include("sharing.api.urls")),
    path("", include("uploads.urls")),
]

urlpatterns = [
    path("", files_browser.home, name="home"),
    path("files/", include("files.urls")),
    path("search/", include("search.urls")),
    path("", include("sharing.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("account/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", schema.api_schema, name="api-schema"),
    path("api/docs/", schema.api_docs, name="api-docs"),
    path("api/auth/", include("rest_framework.urls")),
    re_path(r"^dav", include("webdav.urls")),
]

handler400 = "fileflow.handlers.bad_request"
handler403 = "fileflow.handlers.permission_denied"
handler404 = "fileflow.handlers.page_not_found"
handler500 = "fileflow.handlers.server_error"

admin.site.site_header = "FileFlow operations"
admin.site.site_title = "FileFlow admin"

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from fileflow import health
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
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/auth/", include("rest_framework.urls")),
]

admin.site.site_header = "FileFlow operations"
admin.site.site_title = "FileFlow admin"

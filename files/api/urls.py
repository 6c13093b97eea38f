from django.urls import path
from rest_framework.routers import SimpleRouter

from files.api.activity import ActivityView
from files.api.views import (
    FileContentAtPathView,
    FileContentView,
    NodeUploadManyView,
    NodeUploadView,
    NodeViewSet,
    TrashEntryView,
    TrashView,
)

router = SimpleRouter()
router.register("nodes", NodeViewSet, basename="node")

urlpatterns = [
    # Before the router, whose detail route would otherwise read "upload" as an id.
    path("nodes/upload/", NodeUploadView.as_view(), name="node-upload"),
    path("nodes/upload-many/", NodeUploadManyView.as_view(), name="node-upload-many"),
    path("files/content/", FileContentView.as_view(), name="file-content"),
    # The path in the URL, as curl builds it: `curl -T a.pdf …/files/content/Documents/`
    # sends PUT …/files/content/Documents/a.pdf.
    path(
        "files/content/<path:url_path>",
        FileContentAtPathView.as_view(),
        name="file-content-at-path",
    ),
    path("trash/", TrashView.as_view(), name="trash"),
    path("activity/", ActivityView.as_view(), name="activity"),
    path("trash/<int:pk>/", TrashEntryView.as_view(), name="trash-entry"),
    *router.urls,
]

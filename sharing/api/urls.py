from django.urls import path
from rest_framework.routers import SimpleRouter

from sharing.api.people import (
    NodePeopleView,
    NodePersonView,
    SharedWithMeItemView,
    SharedWithMeView,
)
from sharing.api.views import ShareLinkViewSet

router = SimpleRouter()
router.register("shares", ShareLinkViewSet, basename="share")

urlpatterns = [
    path("nodes/<int:pk>/people/", NodePeopleView.as_view(), name="node-people"),
    path("nodes/<int:pk>/people/<int:share_id>/", NodePersonView.as_view(), name="node-person"),
    path("shared-with-me/", SharedWithMeView.as_view(), name="shared-with-me"),
    path("shared-with-me/<int:pk>/", SharedWithMeItemView.as_view(), name="shared-with-me-item"),
    *router.urls,
]

from django.urls import path
from rest_framework.routers import SimpleRouter

from search.api.views import SearchProfileViewSet, SearchView, TextStateView

router = SimpleRouter()
router.register("search-profiles", SearchProfileViewSet, basename="search-profile")

urlpatterns = [
    path("search/", SearchView.as_view(), name="search"),
    path("search/text/<int:node_id>/", TextStateView.as_view(), name="text-state"),
    *router.urls,
]

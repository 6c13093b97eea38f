from django.urls import path
from rest_framework.routers import SimpleRouter

from search.api.views import SearchProfileViewSet, SearchView

router = SimpleRouter()
router.register("search-profiles", SearchProfileViewSet, basename="search-profile")

urlpatterns = [path("search/", SearchView.as_view(), name="search"), *router.urls]

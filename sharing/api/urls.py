from rest_framework.routers import SimpleRouter

from sharing.api.views import ShareLinkViewSet

router = SimpleRouter()
router.register("shares", ShareLinkViewSet, basename="share")

urlpatterns = router.urls

"""Share-link pages: the public side at /s/<token>/ and the owner's "Shared by me"."""

from django.urls import path

from sharing import people_views, public, resumable, views

app_name = "sharing"

urlpatterns = [
    path("s/<str:token>/", public.public, name="public"),
    path("s/<str:token>/items/<int:pk>/", public.public_item, name="public-item"),
    path("s/<str:token>/items/<int:pk>/content/", public.public_content, name="public-content"),
    path("s/<str:token>/download/", public.public_download, name="public-download"),
    path("s/<str:token>/zip/", public.public_zip, name="public-zip"),
    path("s/<str:token>/upload/", public.public_upload, name="public-upload"),
    path("s/<str:token>/uploads/", resumable.drop_create, name="public-tus"),
    path("s/<str:token>/uploads/<str:pk>", resumable.drop_upload, name="public-tus-upload"),
    path("shares/", views.share_list, name="list"),
    path("shares/<int:pk>/", views.share_detail, name="detail"),
    path("shared-with-me/", people_views.shared_with_me, name="shared-with-me"),
    path("shared-with-me/<int:pk>/leave/", people_views.shared_leave, name="shared-leave"),
    path("shared-with-me/<int:pk>/pin/", people_views.shared_pin, name="shared-pin"),
    path("files/items/<int:pk>/people/", people_views.people_add, name="people-add"),
    path(
        "files/items/<int:pk>/people/<int:share_id>/",
        people_views.people_change,
        name="people-change",
    ),
]

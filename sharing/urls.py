"""Share-link pages: the public side at /s/<token>/ and the owner's "Shared by me"."""

from django.urls import path

from sharing import public, resumable, views

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
]

"""Web pages of search (the API lives in search/api/urls.py)."""

from django.urls import path

from search import views

app_name = "search"

urlpatterns = [
    path("", views.results, name="results"),
    path("saved/", views.profile_create, name="profile-create"),
    path("saved/<int:pk>/", views.saved, name="saved"),
    path("saved/<int:pk>/update/", views.profile_update, name="profile-update"),
    path("saved/<int:pk>/rename/", views.profile_rename, name="profile-rename"),
    path("saved/<int:pk>/delete/", views.profile_delete, name="profile-delete"),
]

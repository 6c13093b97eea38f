"""Web pages of the file browser (the API lives in files/api/urls.py)."""

from django.urls import path

from files import views

app_name = "files"

urlpatterns = [
    path("folders/<int:pk>/", views.folder, name="folder"),
    path("folders/<int:pk>/new-folder/", views.folder_create, name="folder-create"),
    path("folders/<int:pk>/upload/", views.upload, name="upload"),
    path("items/<int:pk>/", views.node_detail, name="node"),
    path("items/<int:pk>/download/", views.download, name="download"),
    path("items/<int:pk>/rename/", views.rename, name="rename"),
    path("items/<int:pk>/move/", views.move, name="move"),
    path("items/<int:pk>/copy/", views.move, {"mode": "copy"}, name="copy"),
    path("items/<int:pk>/trash/", views.trash, name="trash-node"),
    path("items/<int:pk>/favorite/", views.set_favorite, name="favorite"),
    path("items/<int:pk>/tags/", views.set_tags, name="tags-set"),
    path(
        "items/<int:pk>/versions/<int:version_pk>/restore/",
        views.version_restore,
        name="version-restore",
    ),
    path(
        "items/<int:pk>/versions/<int:version_pk>/delete/",
        views.version_delete,
        name="version-delete",
    ),
    path("selection/", views.bulk, name="bulk"),
    path("favourites/", views.favorites, name="favorites"),
    path("tags/", views.tags, name="tags"),
    path("tags/<int:pk>/", views.tag_detail, name="tag"),
    path("trash/", views.trash_list, name="trash"),
    path("trash/act/", views.trash_bulk, name="trash-act"),
    path("trash/empty/", views.trash_empty, name="trash-empty"),
]

"""Web pages of the file browser (the API lives in files/api/urls.py)."""

from django.urls import path

from files.views import activity, browser, collections, items

app_name = "files"

urlpatterns = [
    path("folders/<int:pk>/", browser.folder, name="folder"),
    path("folders/<int:pk>/new-folder/", browser.folder_create, name="folder-create"),
    path("folders/<int:pk>/upload/", browser.upload, name="upload"),
    path("items/<int:pk>/", items.node_detail, name="node"),
    path("items/<int:pk>/download/", items.download, name="download"),
    path("items/<int:pk>/rename/", items.rename, name="rename"),
    path("items/<int:pk>/move/", items.move, name="move"),
    path("items/<int:pk>/copy/", items.move, {"mode": "copy"}, name="copy"),
    path("items/<int:pk>/trash/", items.trash, name="trash-node"),
    path("items/<int:pk>/favorite/", items.set_favorite, name="favorite"),
    path("items/<int:pk>/tags/", items.set_tags, name="tags-set"),
    path(
        "items/<int:pk>/versions/<int:version_pk>/restore/",
        items.version_restore,
        name="version-restore",
    ),
    path(
        "items/<int:pk>/versions/<int:version_pk>/delete/",
        items.version_delete,
        name="version-delete",
    ),
    path("selection/", items.bulk, name="bulk"),
    path("favourites/", collections.favorites, name="favorites"),
    path("tags/", collections.tags, name="tags"),
    path("tags/<int:pk>/", collections.tag_detail, name="tag"),
    path("trash/", collections.trash_list, name="trash"),
    path("activity/", activity.activity, name="activity"),
    path("trash/act/", collections.trash_bulk, name="trash-act"),
    path("trash/empty/", collections.trash_empty, name="trash-empty"),
]

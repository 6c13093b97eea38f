"""The web pages of the file browser.

Server-rendered, and complete without JavaScript for the basics: browse (first page only,
then a cursor link), sort, new folder, upload (a plain multipart POST), rename, move, copy,
trash, restore, download, tags, favourites, versions. The scripts in ``static/js`` add
drag-and-drop, progress, multi-select, keyboard and previews on top, through the REST API.

Views validate and call the services; a service's refusal is shown next to the form that
caused it, or on an error page with its status code. Another user's ids are a 404.

- :mod:`.rows`: how items are shown (kinds, rows, view mode, the scripts' page config);
  the search and sharing pages use it too.
- :mod:`.common`: the caller's items, error pages, where to go after an action.
- :mod:`.browser`: the folder page, new folder and the no-script upload.
- :mod:`.items`: one item's page and actions, and the no-script checkboxes.
- :mod:`.collections`: favourites, tags and the trash.
"""

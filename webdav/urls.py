from django.urls import re_path

from webdav import views

app_name = "webdav"

# Mounted at "dav" (fileflow/urls.py): "/dav", "/dav/" and everything below.
urlpatterns = [re_path(r"^(?P<path>/.*)?$", views.dav, name="root")]

from django.apps import AppConfig


class WebdavConfig(AppConfig):
    name = "webdav"
    verbose_name = "WebDAV"
    default_auto_field = "django.db.models.BigAutoField"

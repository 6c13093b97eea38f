from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    verbose_name = "Resumable uploads"

    def ready(self) -> None:
        from files.maintenance.gc import register_sweep
        from uploads.services import uploads_sweep_expired

        register_sweep(uploads_sweep_expired)

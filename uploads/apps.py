from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    verbose_name = "Resumable uploads"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from files.maintenance.gc import register_sweep
        from files.selectors import register_reservation_counter
        from files.services import register_expired_releaser
        from uploads.models import TusUpload
        from uploads.services import (
            release_expired,
            reserved_by,
            upload_row_deleted,
            uploads_sweep_expired,
        )

        register_sweep(uploads_sweep_expired)
        register_expired_releaser(release_expired)
        register_reservation_counter(reserved_by)
        post_delete.connect(upload_row_deleted, sender=TusUpload, dispatch_uid="uploads_release")

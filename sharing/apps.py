from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = "Sharing"

    def ready(self) -> None:
        from sharing.services import share_store_resumable
        from uploads.services import register_scope_finisher

        # A drop folder's resumable upload is stored and logged the same way whether the
        # visitor's request finishes it or gc does after a crash.
        register_scope_finisher(
            "share", lambda upload, item: share_store_resumable(upload=upload, item=item)
        )

"""Every account gets its home folder when it is created, whichever way it is created."""

from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from files import tree


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="files_create_home")
def create_home_folder(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw:
        tree.create_home(instance)

"""Background work of the sharing app, run by the task worker."""

from __future__ import annotations

from django.tasks import task

from sharing import services


@task()
def forget_share_addresses() -> int:
    """``manage.py forget_share_addresses`` on a schedule; returns how many were erased."""
    return services.addresses_forget()

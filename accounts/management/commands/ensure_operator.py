"""Make sure an operator (superuser) account exists; used by the start-up script."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import user_create


class Command(BaseCommand):
    help = (
        "Create an operator account if none exists. The name and password come from "
        "FILEFLOW_ADMIN_USERNAME / FILEFLOW_ADMIN_PASSWORD (and FILEFLOW_ADMIN_EMAIL) when set; "
        "otherwise the account is called 'admin' and a generated password is printed once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model().objects
        username = os.environ.get("FILEFLOW_ADMIN_USERNAME", "").strip()
        password = os.environ.get("FILEFLOW_ADMIN_PASSWORD", "")
        email = os.environ.get("FILEFLOW_ADMIN_EMAIL", "").strip()
        if username and users.filter(username=username).exists():
            self.stdout.write(f"Operator account: {username} (password unchanged)")
            return
        if not username:
            existing = users.filter(is_superuser=True, is_active=True).order_by("pk").first()
            if existing is not None:
                self.stdout.write(f"Operator account: {existing.username} (password unchanged)")
                return
            username = "admin"
            if users.filter(username=username).exists():
                raise CommandError(
                    "A user called 'admin' exists but is not an operator: set "
                    "FILEFLOW_ADMIN_USERNAME and FILEFLOW_ADMIN_PASSWORD to create one."
                )
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        user_create(username=username, email=email, password=password, is_staff=True)
        if generated:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created operator account '{username}' with password: {password}\n"
                    "This password is shown once: note it now, "
                    "change it at /account/password/change/."
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Created operator account '{username}'."))

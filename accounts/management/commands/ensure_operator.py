"""Make sure an operator (superuser) account exists; used by the start-up script."""

from __future__ import annotations

import os
import secrets
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.services import InvalidEmail, clean_email, user_create, user_set_email


class Command(BaseCommand):
    help = (
        "Create an operator account if none exists. The name, password and e-mail address "
        "come from FILEFLOW_ADMIN_USERNAME / FILEFLOW_ADMIN_PASSWORD / FILEFLOW_ADMIN_EMAIL when "
        "set; otherwise the account is called 'admin', a generated password is printed once, "
        "and the e-mail address (where password resets go) is asked for when run in a terminal."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Never ask for anything (the e-mail address then comes only from "
            "FILEFLOW_ADMIN_EMAIL).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model().objects
        username = os.environ.get("FILEFLOW_ADMIN_USERNAME", "").strip()
        password = os.environ.get("FILEFLOW_ADMIN_PASSWORD", "")
        email = os.environ.get("FILEFLOW_ADMIN_EMAIL", "").strip()
        existing: User | None = None
        if username:
            existing = users.filter(username=username).first()
        else:
            existing = users.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if existing is not None:
            self._exists(existing, email)
            return
        if not username:
            username = "admin"
            if users.filter(username=username).exists():
                raise CommandError(
                    "A user called 'admin' exists but is not an operator: set "
                    "FILEFLOW_ADMIN_USERNAME and FILEFLOW_ADMIN_PASSWORD to create one."
                )
        try:
            email = clean_email(email)
        except InvalidEmail as exc:
            raise CommandError(f"FILEFLOW_ADMIN_EMAIL: {exc.message}") from None
        if not email and options.get("interactive", True) and sys.stdin.isatty():
            email = self._ask_email()
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        user_create(username=username, email=email, password=password, is_staff=True)
        reaches = f" (password resets go to {email})" if email else ""
        if generated:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created operator account '{username}'{reaches} with password: {password}\n"
                    "This password is shown once: note it now, "
                    "change it at /account/password/change/."
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Created operator account '{username}'{reaches}.")
            )
        if not email:
            self.stdout.write(self._no_email_hint())

    def _exists(self, user: User, email: str) -> None:
        if email and not user.email:
            try:
                user_set_email(user=user, email=email)
            except InvalidEmail as exc:
                raise CommandError(f"FILEFLOW_ADMIN_EMAIL: {exc.message}") from None
        self.stdout.write(
            f"Operator account: {user.username} (password unchanged). Forgot it? Set a new one "
            f"with: python manage.py changepassword {user.username}"
        )
        if not user.email:
            self.stdout.write(self._no_email_hint())

    def _no_email_hint(self) -> str:
        return (
            "It has no e-mail address, so a password reset cannot reach it: add one on the "
            "account page (/account/) or set FILEFLOW_ADMIN_EMAIL."
        )

    def _ask_email(self) -> str:
        while True:
            answer = input(
                "E-mail address of the operator, where password resets go (Enter to skip): "
            )
            try:
                return clean_email(answer)
            except InvalidEmail as exc:
                self.stderr.write(exc.message)

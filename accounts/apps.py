from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Registers the Bearer scheme with drf-spectacular.
        from accounts.api import schema  # noqa: F401

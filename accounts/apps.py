from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"
    # The Bearer scheme is registered with drf-spectacular when a schema is generated
    # (fileflow.schema.register_extensions), not at start-up.

"""System checks of the search settings that need the database.

``FILEFLOW_SEARCH_CONFIG`` names a PostgreSQL text search configuration (``pg_ts_config``);
a name the database does not have would fail every content search, so ``manage.py check
--database default`` (and ``migrate``, which ``scripts/serve.sh`` runs) reports it first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Tags, register
from django.db import connections

from search.fulltext import config_problem


@register(Tags.database)
def search_config_check(
    app_configs: Sequence[AppConfig] | None = None,
    databases: Iterable[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for alias in databases or ():
        problem = config_problem(connections[alias])
        if problem is not None:
            errors.append(
                Error(
                    problem,
                    hint=(
                        "Set FILEFLOW_SEARCH_CONFIG to one of the names "
                        "`SELECT cfgname FROM pg_ts_config` lists (e.g. simple, english), "
                        "then run manage.py reindex."
                    ),
                    id="search.E001",
                )
            )
    return errors

"""What every page's sidebar shows of search: the signed-in person's saved searches."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from search.models import SearchProfile
from search.selectors import profile_list


def saved_searches(request: HttpRequest) -> dict[str, Any]:
    """Lazy: only pages that render the sidebar run the query, and only once."""

    def load() -> list[SearchProfile]:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return []
        return list(profile_list(user=user).select_related(None).only("id", "name"))

    return {"saved_searches": SimpleLazyObject(load)}

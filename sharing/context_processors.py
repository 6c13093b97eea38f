"""What every page's sidebar shows of shares with people: unread ones and pinned ones."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from sharing import people


def shared_with_me(request: HttpRequest) -> dict[str, Any]:
    """Lazy: only pages that render the sidebar run the queries."""
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated

    def unread() -> int:
        return people.shared_with_me_unread(user) if signed_in else 0  # type: ignore[arg-type]

    def pinned() -> list[Any]:
        if not signed_in:
            return []
        return list(people.shared_with_me(user).pinned_ones()[:50])  # type: ignore[arg-type]

    return {"shared_unread": SimpleLazyObject(unread), "pinned_shares": SimpleLazyObject(pinned)}

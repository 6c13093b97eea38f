"""The one search engine, used by the API, the web page and saved searches.

:func:`build_queryset` turns a :class:`~search.query.SearchQuery` into one query over the
caller's own nodes, and :func:`search` fetches a page of hits with their paths.

Name matching: every word of ``q`` must occur in the name, ignoring case. On PostgreSQL
accents are ignored too: both sides go through ``f_unaccent(lower(...))``, the exact
expression of the trigram index that migration ``search.0002`` creates, so the planner can
use that index for ``LIKE '%word%'``. On SQLite ``LIKE`` is case-insensitive for ASCII
only and accents count; that is the documented fallback.

Text matching: ``q`` is also looked up in the text of documents (:mod:`search.fulltext`:
``websearch_to_tsquery`` on PostgreSQL, FTS5 on SQLite), and a node whose content matches
is a hit even when its name does not. Relevance puts name matches first (exact, prefix,
contains), then text-only matches by their full-text rank. Hits found in the text carry a
snippet with the matching words marked (:attr:`SearchHit.snippet_html`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
    Window,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, Lower
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accounts.models import User
from files import tree
from files.models import Node, Tag
from search.categories import category_of, category_q, extension_expression
from search.errors import InvalidSearch, SearchFolderNotFound
from search.fulltext import MARK_END, MARK_START, index
from search.query import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, SearchQuery

# SearchQuery is part of this module's interface: build one, then search() with it.
__all__ = [
    "TRIGRAM_INDEX",
    "SearchHit",
    "SearchPage",
    "SearchQuery",
    "build_queryset",
    "resolve_folder",
    "search",
]

# The name of the PostgreSQL index this module's name filter is written for (tests and the
# benchmark look for it in query plans).
TRIGRAM_INDEX = "search_node_name_trgm"


# --- the query ---------------------------------------------------------------------------


def _folded(expression: Combinable, function: str = "f_unaccent") -> Func:
    """``f_unaccent(lower(x))`` — PostgreSQL only; the trigram index's expression."""
    return Func(Lower(expression), function=function, output_field=TextField())


def _name_filter(qs: QuerySet[Node], words: Sequence[str]) -> tuple[QuerySet[Node], Q, Any]:
    """The condition that every word is in the name, and its relevance expression.

    On PostgreSQL each word is tested twice, with the same answer: on
    ``f_unaccent(lower(name))``, the indexed expression, so the planner can use the trigram
    index; and on ``f_unaccent_fast(lower(name))``, an inlined twin that costs a third as
    much. PostgreSQL evaluates the cheaper condition first, so when it scans one owner's
    nodes instead of the index, only the rows that match pay for the indexable one."""
    phrase = " ".join(words)
    if connection.vendor == "postgresql":
        qs = qs.alias(
            search_name=_folded(F("name")),
            search_name_fast=_folded(F("name"), "f_unaccent_fast"),
        )
        match = Q()
        for word in words:
            # A constant once planned (f_unaccent is IMMUTABLE), as the index needs.
            needle = _folded(Value(word))
            match &= Q(search_name_fast__contains=needle, search_name__contains=needle)
        needle = _folded(Value(phrase))
        exact, prefix = Q(search_name_fast=needle), Q(search_name_fast__startswith=needle)
    else:
        match = Q()
        for word in words:
            match &= Q(name__icontains=word)
        exact, prefix = Q(name__iexact=phrase), Q(name__istartswith=phrase)
    rank = Case(
        When(exact, then=Value(0)),
        When(prefix, then=Value(1)),
        When(match, then=Value(2)),
        default=Value(TEXT_ONLY),
        output_field=IntegerField(),
    )
    return qs, match, rank


def _tags_filter(
    qs: QuerySet[Node], user: User | AnonymousUser, query: SearchQuery
) -> QuerySet[Node]:
    """Tags are matched by name, ignoring case, among the caller's own tags."""
    found = list(
        Tag.objects.filter(owner_id=user.pk)
        .filter(reduce(or_, (Q(name__iexact=name) for name in query.tags)))
        .values_list("id", "name")
    )
    through = Node.tags.through

    def tagged(ids: list[int]) -> Exists:
        return Exists(through.objects.filter(node_id=OuterRef("pk"), tag_id__in=ids))

    if query.tag_mode == "any":
        return qs.filter(tagged([pk for pk, _ in found])) if found else qs.none()
    for wanted in query.tags:
        ids = [pk for pk, name in found if name.casefold() == wanted.casefold()]
        if not ids:
            return qs.none()
        qs = qs.filter(tagged(ids))
    return qs


def resolve_folder(*, user: User | AnonymousUser, folder_id: int) -> Node:
    """The caller's live folder ``folder_id``, or :class:`SearchFolderNotFound` (404)."""
    folder = Node.objects.visible_to(user).filter(pk=folder_id, is_folder=True).first()
    if folder is None:
        raise SearchFolderNotFound("No such folder to search in ({param}).", param="in")
    if folder.trashed_at is not None:
        raise SearchFolderNotFound(
            "The folder to search in ({param}) is in the trash; restore it first.", param="in"
        )
    return folder


def build_queryset(*, user: User | AnonymousUser, query: SearchQuery) -> QuerySet[Node]:
    """One query for ``query`` over the caller's own nodes, ordered as asked.

    Starts from ``Node.objects.visible_to(user)``; the home folder is never a hit."""
    qs: QuerySet[Node] = Node.objects.visible_to(user).filter(parent__isnull=False)
    if query.trash == "exclude":
        qs = qs.filter(trashed_at__isnull=True)
    elif query.trash == "only":
        qs = qs.filter(trashed_at__isnull=False)
    if query.folder_id is not None:
        qs = qs.filter(tree.subtree_filter(resolve_folder(user=user, folder_id=query.folder_id)))

    rank: Any = None
    text_rank: Any = None
    if query.words:
        qs, name_match, rank = _name_filter(qs, query.words)
        texts = index().matching(query.q)
        if texts is None:
            qs = qs.filter(name_match)
        else:
            # Two lookups, each on its own index (names: trigram; text: GIN or FTS5),
            # joined by id: a plain OR of both would make PostgreSQL scan every node of
            # the owner and test each one.
            own = Node.objects.visible_to(user)
            by_name = _name_filter(own, query.words)
            by_name_ids = by_name[0].filter(by_name[1]).values("pk")
            by_text_ids = own.filter(texts).values("pk")
            qs = qs.filter(pk__in=by_name_ids.union(by_text_ids, all=True))
            text_rank = index().rank(query.q)
        qs = qs.annotate(search_rank=rank)
        rank = F("search_rank")
    if query.types or query.extensions:
        qs = qs.alias(file_ext=extension_expression())
    if query.types:
        qs = qs.filter(reduce(or_, (category_q(key, ext_field="file_ext") for key in query.types)))
    if query.extensions:
        # A Q: the stubs cannot see the alias above as a field.
        qs = qs.filter(Q(is_folder=False) & Q(file_ext__in=query.extensions))
    if query.size_min is not None:
        qs = qs.filter(size__gte=query.size_min)
    if query.size_max is not None:
        qs = qs.filter(size__lte=query.size_max)
    if query.modified_after is not None:
        qs = qs.filter(updated_at__gte=query.modified_after)
    if query.modified_before is not None:
        qs = qs.filter(updated_at__lte=query.modified_before)
    if query.created_after is not None:
        qs = qs.filter(created_at__gte=query.created_after)
    if query.created_before is not None:
        qs = qs.filter(created_at__lte=query.created_before)
    if query.tags:
        qs = _tags_filter(qs, user, query)
    if query.favorite is not None:
        qs = qs.filter(is_favorite=query.favorite)
    return qs.order_by(*_ordering(query.ordering, rank, text_rank))


def _ordering(ordering: str, rank: Any, text_rank: Any = None) -> list[OrderBy]:
    """ORDER BY for ``ordering``; without words to rank by, relevance is by name."""
    descending = ordering.startswith("-")
    key = ordering.lstrip("-")
    if key == "relevance" and rank is None:
        key, descending = "name", False
    if key == "name":
        if descending:
            return [Lower("name").desc(), F("id").desc()]
        return [Lower("name").asc(), F("id").asc()]
    primary: Any = {
        "relevance": rank,
        "size": F("size"),
        "modified": F("updated_at"),
        "created": F("created_at"),
    }[key]
    order = [primary.desc() if descending else primary.asc()]
    if key == "relevance" and text_rank is not None:
        # Among text-only hits (the name matches rank above them), the better text first.
        text_first = Coalesce(text_rank, Value(0.0))
        order.append(text_first.asc() if descending else text_first.desc())
    # Ties by name, then id, so pages never shuffle.
    return [*order, Lower("name").asc(), F("id").asc()]


# --- results -----------------------------------------------------------------------------


# Relevance of a hit whose name does not match: it was found in the text.
TEXT_ONLY = 3


@dataclass(frozen=True)
class SearchHit:
    node: Node
    path: str
    # The matching part of the document's text, matches between MARK_START and MARK_END.
    snippet: str | None = None
    # Found in the text only (its name does not have every word).
    in_text: bool = False

    @property
    def snippet_html(self) -> SafeString | None:
        """The snippet, HTML-escaped, with the matching words in ``<mark>``."""
        if self.snippet is None:
            return None
        marked = escape(" ".join(self.snippet.split()))
        return mark_safe(  # noqa: S308 - escaped above; only our marks become tags
            marked.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
        )

    @property
    def category(self) -> str:
        return category_of(
            name=self.node.name, mime_type=self.node.mime_type, is_folder=self.node.is_folder
        )


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    limit: int
    offset: int
    has_more: bool
    total: int | None = None
    # Set instead of results when a saved search cannot run (its folder is gone).
    notice: str | None = None

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.has_more else None

    @property
    def previous_offset(self) -> int | None:
        return max(self.offset - self.limit, 0) if self.offset > 0 else None


def search(
    *,
    user: User | AnonymousUser,
    query: SearchQuery,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    with_total: bool = False,
) -> SearchPage:
    """A page of hits for ``query``: a fixed number of queries whatever the page size (the
    page, the hits' tags, their paths).

    ``with_total`` also counts every hit, in the same query as the page (``COUNT(*) OVER
    ()``): a separate ``count()`` would match every name a second time."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidSearch(
            "{param} must be between 1 and {high}.", param="limit", values={"high": MAX_LIMIT}
        )
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidSearch(
            "{param} must be between 0 and {high}.", param="offset", values={"high": MAX_OFFSET}
        )
    qs = build_queryset(user=user, query=query)
    page = qs.prefetch_related("tags")
    if with_total:
        page = page.annotate(search_total=Window(Count("pk")))
    rows = list(page[offset : offset + limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    total: int | None = None
    if with_total:
        # An offset past the last hit fetches no row to read the total from.
        total = rows[0].search_total if rows else (0 if offset == 0 else qs.count())  # type: ignore[attr-defined]
    paths = tree.paths_of(rows)
    snippets: dict[int, str] = {}
    if query.words:
        snippets = index().snippets(query.q, sorted({n.blob_id for n in rows if n.blob_id}))
    return SearchPage(
        hits=[
            SearchHit(
                node=node,
                path=paths[node.pk],
                snippet=snippets.get(node.blob_id) if node.blob_id else None,
                in_text=getattr(node, "search_rank", None) == TEXT_ONLY,
            )
            for node in rows
        ],
        limit=limit,
        offset=offset,
        has_more=has_more,
        total=total,
    )

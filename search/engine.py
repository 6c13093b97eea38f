"""The one search engine, used by the API, the web page and saved searches.

:func:`build_queryset` turns a :class:`~search.query.SearchQuery` into one query over the
caller's own nodes and what is shared with them, and :func:`search` fetches a page of hits
with their paths as the caller sees them (:func:`files.places.places_of`).

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
    ExpressionWrapper,
    F,
    FloatField,
    Func,
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
from files import access, tree
from files import places as files_places
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
    "names_matching",
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


@dataclass(frozen=True)
class _NameMatch:
    """Every word of the query in the name, as filters on a queryset that has the aliases
    of :meth:`aliased`.

    ``indexed`` is what the planner may answer from the trigram index (PostgreSQL): each
    word tested twice, with the same answer, on ``f_unaccent(lower(name))`` (the indexed
    expression) and on ``f_unaccent_fast(lower(name))``, an inlined twin that costs a third
    as much; PostgreSQL tests the cheaper one first, so when it scans rows instead of the
    index, only the rows that match pay for the indexable one. ``cheap`` is the twin alone,
    for rows that are read anyway (shared items, found from the shares; the ranking), and
    ``exact``/``prefix`` are the whole query against the whole name, for relevance."""

    indexed: Q
    cheap: Q
    exact: Q
    prefix: Q

    @classmethod
    def of(cls, words: Sequence[str]) -> _NameMatch:
        phrase = " ".join(words)
        if connection.vendor == "postgresql":
            indexed, cheap = Q(), Q()
            for word in words:
                # A constant once planned (f_unaccent is IMMUTABLE), as the index needs.
                needle = _folded(Value(word))
                cheap &= Q(search_name_fast__contains=needle)
                indexed &= Q(search_name_fast__contains=needle, search_name__contains=needle)
            needle = _folded(Value(phrase))
            return cls(
                indexed=indexed,
                cheap=cheap,
                exact=Q(search_name_fast=needle),
                prefix=Q(search_name_fast__startswith=needle),
            )
        match = Q()
        for word in words:
            match &= Q(name__icontains=word)
        return cls(
            indexed=match,
            cheap=match,
            exact=Q(name__iexact=phrase),
            prefix=Q(name__istartswith=phrase),
        )

    @staticmethod
    def aliased(qs: QuerySet[Node]) -> QuerySet[Node]:
        if connection.vendor != "postgresql":
            return qs
        return qs.alias(
            search_name=_folded(F("name")),
            search_name_fast=_folded(F("name"), "f_unaccent_fast"),
        )

    def rank(self, text_rank: Any) -> Case:
        """Relevance, smaller is better: 0 the whole name, 1 it starts with the query, 2 it
        has every word; a hit found only in the text gets 3 plus a fraction that shrinks as
        its text matches better (the full-text rank is computed for those rows only)."""
        text_only: Any = Value(float(TEXT_ONLY) + 1.0)
        if text_rank is not None:
            better = Coalesce(text_rank, Value(0.0), output_field=FloatField())
            text_only = ExpressionWrapper(
                Value(float(TEXT_ONLY)) + Value(1.0) / (Value(1.0) + better),
                output_field=FloatField(),
            )
        return Case(
            When(self.exact, then=Value(0.0)),
            When(self.prefix, then=Value(1.0)),
            When(self.cheap, then=Value(2.0)),
            default=text_only,
            output_field=FloatField(),
        )


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


def names_matching(queryset: QuerySet[Node], words: Sequence[str]) -> QuerySet[Node]:
    """The nodes of ``queryset`` whose name holds every one of ``words``, matched as a
    search matches names (case and accents aside; on PostgreSQL through the trigram
    index, whoever owns them)."""
    names = _NameMatch.of(words)
    return names.aliased(queryset).filter(names.indexed)


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


def _narrowed(qs: QuerySet[Node], query: SearchQuery) -> QuerySet[Node]:
    """``qs`` with the query's filters on each node's own fields: the trash, the types and
    extensions, size, dates and favourite (not the words, the folder or the tags)."""
    if query.trash == "exclude":
        qs = qs.filter(trashed_at__isnull=True)
    elif query.trash == "only":
        qs = qs.filter(trashed_at__isnull=False)
    if query.types or query.extensions:
        qs = qs.alias(file_ext=extension_expression())
    if query.types:
        qs = qs.filter(reduce(or_, (category_q(key, ext_field="file_ext") for key in query.types)))
    if query.extensions:
        # A Q: the stubs cannot see the alias above as a field.
        qs = qs.filter(Q(is_folder=False) & Q(file_ext__in=query.extensions))
    given = {
        "size__gte": query.size_min,
        "size__lte": query.size_max,
        "updated_at__gte": query.modified_after,
        "updated_at__lte": query.modified_before,
        "created_at__gte": query.created_after,
        "created_at__lte": query.created_before,
        "is_favorite": query.favorite,
    }
    return qs.filter(**{lookup: value for lookup, value in given.items() if value is not None})


def build_queryset(*, user: User | AnonymousUser, query: SearchQuery) -> QuerySet[Node]:
    """One query for ``query`` over what the caller may see, ordered as asked: their own
    nodes and what is shared with them (:func:`files.access.visible_filter`); the home
    folder is never a hit.

    Access is applied once, to ids gathered per side: the caller's own nodes with the name
    filter (an index may serve it) and, separately, their text matches; the shared nodes
    from the shares, one path range each. The words are then tested on the rows read, with
    the cheaper name test (:class:`_NameMatch`)."""
    qs: QuerySet[Node] = Node.objects.filter(parent__isnull=False)
    if query.folder_id is not None:
        qs = qs.filter(tree.subtree_filter(resolve_folder(user=user, folder_id=query.folder_id)))

    rank: Any = None
    if query.words:
        names = _NameMatch.of(query.words)
        texts = index().matching(query.q)
        own = Node.objects.checked_owner(user)
        # Two lookups, each on its own index (names: trigram; text: GIN or FTS5): a plain
        # OR of both would make PostgreSQL scan every node of the owner and test each one.
        # The owner is checked on the rows they find, never used to find them.
        own_hits = [names.aliased(own).filter(names.indexed)]
        if texts is not None:
            own_hits.append(own.filter(texts))
        qs = names.aliased(qs).filter(access.visible_filter(user, own=own_hits))
        # Every row is tested again, own ones too: an own node may also be reached through a
        # share (to a group its owner is in), and the shared side is not narrowed.
        qs = qs.filter(names.cheap if texts is None else names.cheap | texts)
        qs = qs.annotate(search_rank=names.rank(index().rank(query.q)))
        rank = F("search_rank")
    else:
        # Without words, the filters narrow the caller's own side before access is applied:
        # all their node ids gathered first made a search for PDFs or favourites in a
        # 1M-node account take 4-6 s and 0.6-1.1 s (bench/account_scale.py); favourites
        # now come from their own index.
        own_side = _narrowed(Node.objects.owned_by(user), query)
        qs = qs.filter(access.visible_filter(user, own=[own_side]))
    qs = _narrowed(qs, query)
    if query.tags:
        qs = _tags_filter(qs, user, query)
    return qs.order_by(*_ordering(query.ordering, rank))


def _ordering(ordering: str, rank: Any) -> list[OrderBy]:
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
    # Ties by name, then id, so pages never shuffle.
    return [primary.desc() if descending else primary.asc(), Lower("name").asc(), F("id").asc()]


# --- results -----------------------------------------------------------------------------


# Relevance of a hit whose name does not match (it was found in the text): this or more.
TEXT_ONLY = 3


@dataclass(frozen=True)
class SearchHit:
    node: Node
    # As the caller sees it: "/Docs/a.pdf" in their own files (from the home folder),
    # "Shared with me/Q3/a.pdf" for someone else's item shared with them.
    path: str
    # The matching part of the document's text, matches between MARK_START and MARK_END.
    snippet: str | None = None
    # Found in the text only (its name does not have every word).
    in_text: bool = False
    # Someone else's item, reached through a share.
    shared: bool = False
    # The folder holding it that the caller can open; None for a shared item itself (it
    # sits in Shared with me).
    folder_id: int | None = None

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

    ``with_total`` also counts every hit: from the page itself when it is the last one; else
    on PostgreSQL in the same query (``COUNT(*) OVER ()``, a separate ``count()`` would
    match every name a second time), on SQLite with ``count()`` (:func:`_total_in_window`)."""
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
    in_window = with_total and _total_in_window()
    if in_window:
        page = page.annotate(search_total=Window(Count("pk")))
    rows = list(page[offset : offset + limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    total: int | None = None
    if with_total:
        if in_window and rows:
            total = rows[0].search_total  # type: ignore[attr-defined]
        elif not has_more and (rows or offset == 0):
            total = offset + len(rows)
        else:
            # More pages, or an offset past the last hit (no row to read the total from).
            total = qs.count()
    places = files_places.places_of(user, rows)
    snippets: dict[int, str] = {}
    if query.words:
        snippets = index().snippets(query.q, sorted({n.blob_id for n in rows if n.blob_id}))
    return SearchPage(
        hits=[
            SearchHit(
                node=node,
                path=places[node.pk].path,
                snippet=snippets.get(node.blob_id) if node.blob_id else None,
                in_text=getattr(node, "search_rank", 0) >= TEXT_ONLY,
                shared=places[node.pk].shared,
                folder_id=places[node.pk].parent_id,
            )
            for node in rows
        ],
        limit=limit,
        offset=offset,
        has_more=has_more,
        total=total,
    )


def _total_in_window() -> bool:
    """Count the hits with ``COUNT(*) OVER ()`` in the page's own query? PostgreSQL counts
    the rows it sorts anyway; SQLite's window first copies every matching row into a
    temporary table, which costs more than a second, narrower query (10,000 hits: about
    twice as long as ``count()``)."""
    return connection.vendor == "postgresql"

"""The full-text index of document text: one small class per database.

PostgreSQL keeps a ``tsvector`` per text (``to_tsvector(config, f_unaccent(text))``, GIN
index from migration ``search.0004``) and matches ``websearch_to_tsquery(config,
f_unaccent(q))``: quotes for phrases, ``OR``, ``-word``; ranked by ``ts_rank_cd``, snippets
by ``ts_headline``. ``config`` is ``FILEFLOW_SEARCH_CONFIG``, read when a query runs
(``manage.py reindex`` after changing it).

SQLite matches an FTS5 table kept by triggers (case and accents ignored by its tokenizer),
ranked by ``bm25``, snippets by ``snippet()``. The same query syntax is translated into
FTS5's own (:func:`fts5_query`), every word quoted, so no input is an FTS5 syntax error.

Both answer with blob ids: the engine joins them to the caller's own nodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchVector
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Func, Q, TextField, Value
from django.db.models.expressions import RawSQL

from search.errors import SearchUnavailable
from search.models import BlobText

# Marks around matched words in snippets; control characters cannot occur in stored text
# (extraction keeps none of them but tab and newline), so they are safe to find again.
MARK_START = "\x02"
MARK_END = "\x03"
SNIPPET_WORDS = 24
FTS_TABLE = "search_blobtext_fts"

_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
# (database alias, FILEFLOW_SEARCH_CONFIG) pairs found in pg_ts_config by this process.
_KNOWN_CONFIGS: set[tuple[str, str]] = set()


def config_problem(database: BaseDatabaseWrapper) -> str | None:
    """What is wrong with ``FILEFLOW_SEARCH_CONFIG`` for ``database``, or None.

    On PostgreSQL it must name a text search configuration the database has
    (``pg_ts_config``; ``name`` or ``schema.name``, case-folded like an unquoted SQL name);
    looked up once per process and name. Other databases do not use it."""
    name = str(settings.FILEFLOW_SEARCH_CONFIG)
    if database.vendor != "postgresql" or (database.alias, name) in _KNOWN_CONFIGS:
        return None
    parts = name.split(".")
    if len(parts) > 2 or not all(_IDENTIFIER.fullmatch(part) for part in parts):
        return (
            f"FILEFLOW_SEARCH_CONFIG “{name}” is not a text search configuration name "
            "(name or schema.name: letters, digits and _)."
        )
    if len(parts) == 2:
        sql = (
            "SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace "
            "WHERE n.nspname = %s AND c.cfgname = %s"
        )
    else:
        sql = "SELECT 1 FROM pg_ts_config c WHERE c.cfgname = %s AND pg_ts_config_is_visible(c.oid)"
    with database.cursor() as cursor:
        cursor.execute(sql, [part.lower() for part in parts])
        found = cursor.fetchone() is not None
    if not found:
        return (
            f"FILEFLOW_SEARCH_CONFIG “{name}” is not a text search configuration of this "
            "database (pg_ts_config)."
        )
    _KNOWN_CONFIGS.add((database.alias, name))
    return None


def _config() -> str:
    """``FILEFLOW_SEARCH_CONFIG``, checked: :class:`SearchUnavailable` (503) if the
    database has no such configuration, instead of a database error."""
    problem = config_problem(connection)
    if problem is not None:
        raise SearchUnavailable(
            f"Search inside documents is not available on this server: {problem} "
            "The operator can fix the setting; manage.py check --database default reports it."
        )
    return str(settings.FILEFLOW_SEARCH_CONFIG)


def _unaccent(value: object) -> Func:
    return Func(value, function="f_unaccent", output_field=TextField())


def fts5_query(text: str) -> str | None:
    """``websearch_to_tsquery``'s syntax as an FTS5 query, or None if nothing is asked.

    ``"a phrase"``, ``word``, ``a OR b``, ``-word`` (not); every word is quoted for FTS5,
    and punctuation splits words as both tokenizers do."""
    positives: list[str] = []
    negatives: list[str] = []
    pending_or = False
    for match in _TOKEN.finditer(text):
        phrase, word = match.group(1), match.group(2)
        negate = False
        if word is not None:
            if word == "OR":
                pending_or = bool(positives)
                continue
            if word.startswith("-") and len(word) > 1:
                negate, word = True, word[1:]
            parts = _WORD.findall(word)
        else:
            parts = _WORD.findall(phrase or "")
        if not parts:
            continue
        term = '"' + " ".join(parts) + '"'
        if negate:
            negatives.append(term)
        elif pending_or:
            positives[-1] = f"{positives[-1]} OR {term}"
            pending_or = False
        else:
            positives.append(term)
    if not positives:
        return None
    query = " AND ".join(f"({term})" for term in positives)
    for term in negatives:
        query = f"{query} NOT {term}"
    return query


@dataclass(frozen=True)
class _PostgreSQL:
    def write(self, blob_id: int) -> None:
        BlobText.objects.filter(pk=blob_id).update(
            search_vector=SearchVector(_unaccent(F("text")), config=_config())
        )

    def query(self, text: str) -> SearchQuery | None:
        if not _WORD.search(text):
            return None
        return SearchQuery(_unaccent(Value(text)), config=_config(), search_type="websearch")

    def matching(self, text: str) -> Q | None:
        """A filter on nodes: their content's text matches ``text``.

        Only texts read so far have a vector (a pending or unreadable one has none)."""
        query = self.query(text)
        if query is None:
            return None
        return Q(blob_id__in=BlobText.objects.filter(search_vector=query).values("pk"))

    def rank(self, text: str) -> RawSQL | None:
        """Relevance of the node's text, larger is better (a correlated subquery)."""
        if not _WORD.search(text):
            return None
        return RawSQL(
            "(SELECT ts_rank_cd(t.search_vector, websearch_to_tsquery(%s::regconfig, "
            'f_unaccent(%s))) FROM search_blobtext t WHERE t.blob_id = "files_node"."blob_id")',
            (_config(), text),
        )

    def snippets(self, text: str, blob_ids: list[int]) -> dict[int, str]:
        query = self.query(text)
        if query is None or not blob_ids:
            return {}
        rows = (
            BlobText.objects.filter(pk__in=blob_ids, search_vector=query)
            .annotate(
                snippet=SearchHeadline(
                    "text",
                    query,
                    config=_config(),
                    start_sel=MARK_START,
                    stop_sel=MARK_END,
                    max_words=SNIPPET_WORDS,
                    min_words=SNIPPET_WORDS // 2,
                )
            )
            .values_list("pk", "snippet")
        )
        return dict(rows)


@dataclass(frozen=True)
class _SQLite:
    def write(self, blob_id: int) -> None:
        """Nothing to do: triggers keep the FTS5 table in step with ``text``."""

    def matching_sql(self, text: str) -> tuple[str, list[str]] | None:
        query = fts5_query(text)
        if query is None:
            return None
        return f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [query]  # noqa: S608

    def matching(self, text: str) -> Q | None:
        """A filter on nodes: their content's text matches ``text``.

        Straight from the FTS5 table (a pending or unreadable text is empty: no words)."""
        found = self.matching_sql(text)
        if found is None:
            return None
        sql, params = found
        return Q(blob_id__in=RawSQL(sql, params))  # noqa: S611

    def rank(self, text: str) -> RawSQL | None:
        query = fts5_query(text)
        if query is None:
            return None
        # bm25() is smaller for better matches: negated, so larger is better as on PostgreSQL.
        # Our table name only; the query is a parameter.
        return RawSQL(  # noqa: S611
            f"(SELECT -bm25({FTS_TABLE}) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "  # noqa: S608
            'AND rowid = "files_node"."blob_id")',
            (query,),
        )

    def snippets(self, text: str, blob_ids: list[int]) -> dict[int, str]:
        query = fts5_query(text)
        if query is None or not blob_ids:
            return {}
        marks = ", ".join(["%s"] * len(blob_ids))
        # Our table name and placeholders only; every value is a parameter.
        sql = (
            f"SELECT rowid, snippet({FTS_TABLE}, 0, %s, %s, '…', %s) FROM {FTS_TABLE} "  # noqa: S608
            f"WHERE {FTS_TABLE} MATCH %s AND rowid IN ({marks})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [MARK_START, MARK_END, SNIPPET_WORDS, query, *blob_ids])
            return {int(pk): str(snippet) for pk, snippet in cursor.fetchall()}


def index() -> _PostgreSQL | _SQLite:
    """The full-text index of the database in use."""
    if connection.vendor == "postgresql":
        return _PostgreSQL()
    return _SQLite()

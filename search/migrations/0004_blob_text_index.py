"""The full-text index of document text, one per database.

- PostgreSQL: a GIN index on ``search_blobtext.search_vector`` (the ``tsvector`` that
  :mod:`search.services` writes with ``to_tsvector(FILEFLOW_SEARCH_CONFIG,
  f_unaccent(text))``; ``f_unaccent`` comes from ``search.0002``).
- SQLite: an FTS5 table ``search_blobtext_fts`` over ``search_blobtext.text`` (external
  content: the text is stored once, in ``search_blobtext``), ``rowid`` = the blob's id,
  tokenised with ``unicode61 remove_diacritics 2`` (case and accents ignored), kept up to
  date by triggers on ``search_blobtext``.
"""

from django.db import migrations

GIN_INDEX = "search_blobtext_vector_gin"
FTS = "search_blobtext_fts"

SQLITE_FORWARDS = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(text, content='search_blobtext', "
    "content_rowid='blob_id', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER search_blobtext_fts_insert AFTER INSERT ON search_blobtext BEGIN "
    f"INSERT INTO {FTS}(rowid, text) VALUES (new.blob_id, new.text); END",
    f"CREATE TRIGGER search_blobtext_fts_delete AFTER DELETE ON search_blobtext BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.blob_id, old.text); END",
    f"CREATE TRIGGER search_blobtext_fts_update AFTER UPDATE OF text ON search_blobtext BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.blob_id, old.text); "
    f"INSERT INTO {FTS}(rowid, text) VALUES (new.blob_id, new.text); END",
    # Rows written before this migration (none on a new install).
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_BACKWARDS = [
    "DROP TRIGGER IF EXISTS search_blobtext_fts_insert",
    "DROP TRIGGER IF EXISTS search_blobtext_fts_delete",
    "DROP TRIGGER IF EXISTS search_blobtext_fts_update",
    f"DROP TABLE IF EXISTS {FTS}",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {GIN_INDEX} ON search_blobtext USING gin (search_vector)"
        )
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARDS:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {GIN_INDEX}")
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARDS:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("search", "0003_blob_text")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]

"""PostgreSQL only: a trigram index for accent- and case-insensitive name search.

- extensions ``pg_trgm`` and ``unaccent`` (both "trusted" since PostgreSQL 13: the
  database owner can create them without being a superuser);
- ``f_unaccent(text)``: ``unaccent()`` is only STABLE (its dictionary could change), and an
  index expression must be IMMUTABLE, so this wrapper names the dictionary explicitly,
  schema-qualified, and is declared IMMUTABLE;
- ``f_unaccent_fast(text)``: the same body declared STABLE, which PostgreSQL inlines into
  a direct call of ``unaccent()``. A non-inlined SQL function costs a few microseconds a
  call; when the planner scans one owner's nodes rather than the index, the engine lets
  this cheaper twin filter the rows first (same answer, a third of the time);
- ``search_node_name_trgm``: a GIN ``gin_trgm_ops`` index on
  ``f_unaccent(lower(name))`` of ``files_node``. ``search.engine`` filters on exactly this
  expression (``LIKE '%word%'``), which is what lets the planner use it.

On any other database this migration does nothing (SQLite searches by scanning).
Reversing it drops the index and the functions, then the extensions if nothing else in
the database still uses them.
"""

from django.db import DatabaseError, migrations, transaction

INDEX = "search_node_name_trgm"
FUNCTION = "f_unaccent"
FAST_FUNCTION = "f_unaccent_fast"


def _is_postgresql(schema_editor):
    return schema_editor.connection.vendor == "postgresql"


def forwards(apps, schema_editor):
    if not _is_postgresql(schema_editor):
        return
    quote = schema_editor.quote_name
    table = apps.get_model("files", "Node")._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'unaccent'"
        )
        schema = quote(cursor.fetchone()[0])
        # Schema-qualified so the function gives the same answer whatever the search_path
        # of the session (index builds, restores), which is what IMMUTABLE promises.
        body = f"SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1)"
        for name, volatility in ((FUNCTION, "IMMUTABLE"), (FAST_FUNCTION, "STABLE")):
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {name}(text) RETURNS text "
                f"LANGUAGE sql {volatility} PARALLEL SAFE STRICT AS $$ {body} $$"
            )
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(INDEX)} ON {quote(table)} "
            f"USING gin ({FUNCTION}(lower({quote('name')})) gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if not _is_postgresql(schema_editor):
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(INDEX)}")
        cursor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}(text)")
        cursor.execute(f"DROP FUNCTION IF EXISTS {FAST_FUNCTION}(text)")
        # Another app may have come to rely on them since: then DROP (without CASCADE)
        # refuses, and they stay.
        for extension in ("unaccent", "pg_trgm"):
            try:
                with transaction.atomic(using=schema_editor.connection.alias):
                    cursor.execute(f"DROP EXTENSION IF EXISTS {extension}")
            except DatabaseError:
                continue

class Migration(migrations.Migration):
    dependencies = [
        ("files", "0001_initial"),
        ("search", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]

"""PostgreSQL: ``f_unaccent(text)``, the trigram index's function, in PL/pgSQL.

The function must stay IMMUTABLE (an index expression), which keeps PostgreSQL from inlining
its SQL body (``unaccent()`` is only STABLE), and a non-inlined SQL function costs a few
microseconds a call: the name search pays that on every row it re-checks, ~10,000 of them
for a common word (bench/people.py: 52 → 36 ms for one account's 10,000 matches, same run).
A PL/pgSQL body returning the same expression costs about a third as much. Same answers
(the same call, schema-qualified), same function (``CREATE OR REPLACE`` keeps its oid), so
the index built on it stays valid and is not rebuilt.

Reversing it puts the SQL body back. Nothing to do on other databases.
"""

from django.db import migrations

FUNCTION = "f_unaccent"


def _schema(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'unaccent'"
        )
        return schema_editor.quote_name(cursor.fetchone()[0])


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema = _schema(schema_editor)
    call = f"{schema}.unaccent('{schema}.unaccent'::regdictionary, $1)"
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}(text) RETURNS text LANGUAGE plpgsql "
        f"IMMUTABLE PARALLEL SAFE STRICT AS $$ BEGIN RETURN {call}; END $$"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema = _schema(schema_editor)
    call = f"{schema}.unaccent('{schema}.unaccent'::regdictionary, $1)"
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}(text) RETURNS text LANGUAGE sql "
        f"IMMUTABLE PARALLEL SAFE STRICT AS $$ SELECT {call} $$"
    )


class Migration(migrations.Migration):
    dependencies = [("search", "0005_blob_text_narrow_rows")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]

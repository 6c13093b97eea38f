"""Dead properties keyed by node instead of by path: each row's ``/<owner id>/<path>`` is
resolved to the live node at that path; rows whose path no longer names one (left behind by
a rename outside WebDAV) are dropped, since nothing could have read them."""

from urllib.parse import unquote

import django.db.models.deletion
from django.db import migrations, models


def resolve_urls(apps, schema_editor):
    DeadProperty = apps.get_model("webdav", "DeadProperty")
    Node = apps.get_model("files", "Node")
    homes: dict[int, int | None] = {}
    for prop in DeadProperty.objects.all().iterator():
        owner_id = prop.owner_id
        if owner_id not in homes:
            home = Node.objects.filter(owner_id=owner_id, parent__isnull=True).first()
            homes[owner_id] = home.pk if home else None
        node_id = homes[owner_id]
        rest = prop.url.split("/", 2)[2] if prop.url.count("/") >= 2 else ""
        for part in (p for p in unquote(rest).split("/") if p):
            if node_id is None:
                break
            node_id = (
                Node.objects.filter(parent_id=node_id, name=part, trashed_at__isnull=True)
                .values_list("pk", flat=True)
                .first()
            )
        if node_id is None:
            prop.delete()
        else:
            prop.node_id = node_id
            prop.save(update_fields=["node"])


class Migration(migrations.Migration):
    dependencies = [
        ("files", "0002_tree_path"),
        ("webdav", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="deadproperty",
            name="node",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="dav_properties",
                to="files.node",
            ),
        ),
        migrations.RunPython(resolve_urls, migrations.RunPython.noop),
    ]

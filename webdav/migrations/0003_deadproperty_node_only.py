"""Dead properties: the node is the key (separate from 0002 so that PostgreSQL alters the
table in a transaction with no pending row updates)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("webdav", "0002_deadproperty_node"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="deadproperty", name="webdav_deadproperty_unique"),
        migrations.RemoveField(model_name="deadproperty", name="owner"),
        migrations.RemoveField(model_name="deadproperty", name="url"),
        migrations.AlterField(
            model_name="deadproperty",
            name="node",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="dav_properties",
                to="files.node",
            ),
        ),
        migrations.AddConstraint(
            model_name="deadproperty",
            constraint=models.UniqueConstraint(
                fields=("node", "name"), name="webdav_deadproperty_node_name"
            ),
        ),
    ]

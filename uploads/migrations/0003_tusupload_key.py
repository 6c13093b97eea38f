from django.db import migrations, models
from django.db.models import Value
from django.db.models.functions import Concat


def keep_old_key(apps, schema_editor):
    """Uploads under way keep the key their multipart upload was started at: before this
    field, S3 joined the parts at ``uploads/<id>`` (new ones use ``blobs/uploads/<id>``)."""
    TusUpload = apps.get_model("uploads", "TusUpload")
    TusUpload.objects.update(key=Concat(Value("uploads/"), "id"))


class Migration(migrations.Migration):
    dependencies = [
        ("uploads", "0002_owner_reserved_bytes"),
    ]

    operations = [
        migrations.AddField(
            model_name="tusupload",
            name="key",
            field=models.CharField(blank=True, default="", max_length=1024),
        ),
        migrations.RunPython(keep_old_key, migrations.RunPython.noop),
    ]

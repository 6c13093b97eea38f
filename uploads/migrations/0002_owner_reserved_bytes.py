from django.db import migrations
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce


def hold(apps, schema_editor):
    """Start ``User.reserved_bytes`` at what the unfinished uploads already reserve."""
    User = apps.get_model("accounts", "User")
    TusUpload = apps.get_model("uploads", "TusUpload")
    held = (
        TusUpload.objects.filter(owner=OuterRef("pk"))
        .values("owner")
        .annotate(total=Sum("reserved_bytes"))
        .values("total")
    )
    User.objects.update(
        reserved_bytes=Coalesce(Subquery(held), 0)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_reserved_bytes"),
        ("uploads", "0001_initial"),
    ]

    operations = [migrations.RunPython(hold, migrations.RunPython.noop)]

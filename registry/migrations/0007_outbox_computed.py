"""A dataset version is done when its statistics exist, not when its message was sent: the
statistics side stamps computed_at, and the sweep resends versions left without it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("registry", "0006_user_audit")]

    operations = [
        migrations.AddField(
            model_name="lockoutbox",
            name="computed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]

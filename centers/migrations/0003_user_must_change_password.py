from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("centers", "0002_user_date_format")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="must_change_password",
            field=models.BooleanField(
                default=False,
                help_text="Set when someone else sets this person's password: it is one-time, "
                "to be changed at the next log-in, and no signature is accepted until then.",
            ),
        ),
    ]

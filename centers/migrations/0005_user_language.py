from django.db import migrations, models


class Migration(migrations.Migration):
    # After 0005 (merged first from the accounts branch; both branched from 0003): one leaf, and
    # a database that already has 0005 simply adds this one.
    dependencies = [("centers", "0004_accounts_notifications")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="language",
            field=models.CharField(
                blank=True,
                choices=[("", "As my browser asks"), ("en-gb", "English"), ("it", "Italiano")],
                default="",
                help_text="The language of the pages and of the study's forms; blank follows "
                "the browser.",
                max_length=8,
            ),
        ),
    ]

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("centers", "0003_user_must_change_password")]

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

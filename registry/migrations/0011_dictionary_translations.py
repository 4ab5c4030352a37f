# The dictionary in other languages (registry.dictionary.translations), one table keyed by
# version: dictionary versions themselves are immutable (0008). Numbered 0015 to leave room for
# the migrations of other branches (0010-0014); it follows the latest of them merged.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0010_forms_delete_rename'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='DictionaryTranslation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('language', models.CharField(help_text='A code of settings.LANGUAGES, e.g. it.', max_length=8)),
                ('entries', models.JSONField(default=list)),
                ('source_csv', models.TextField(blank=True)),
                ('sha256', models.CharField(max_length=64)),
                ('note', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('version', models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='translations', to='registry.dictionaryversion')),
            ],
            options={
                'ordering': ['version', 'language', '-pk'],
                'indexes': [models.Index(fields=['version', 'language'], name='dict_translation_lookup')],
            },
        ),
    ]

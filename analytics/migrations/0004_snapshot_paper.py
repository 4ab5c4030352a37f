import django.db.models.deletion
from django.db import migrations, models

IMMUTABLE = """
CREATE TRIGGER analytics_paper_immutable BEFORE UPDATE OR DELETE
  ON analytics_snapshotpaper FOR EACH ROW EXECUTE FUNCTION analytics_snapshot_immutable();
"""
MUTABLE = "DROP TRIGGER IF EXISTS analytics_paper_immutable ON analytics_snapshotpaper;"


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0003_snapshot_detail"),
    ]

    operations = [
        migrations.CreateModel(
            name="SnapshotPaper",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "results",
                    models.JSONField(
                        help_text="table1, drug_response, pfs_by_line, competing_risks."
                    ),
                ),
                (
                    "curves",
                    models.JSONField(default=dict, help_text="Cumulative incidence curves."),
                ),
                ("computed_at", models.DateTimeField(auto_now_add=True)),
                ("duration_ms", models.PositiveIntegerField()),
                (
                    "snapshot",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="paper",
                        to="analytics.statisticssnapshot",
                    ),
                ),
            ],
        ),
        migrations.RunSQL(IMMUTABLE, MUTABLE),
    ]

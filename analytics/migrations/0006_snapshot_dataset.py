import django.db.models.deletion
from django.db import migrations, models

# Existing snapshots keep their record hashes and analysis dataset, moved to their new row.
COPY = """
INSERT INTO analytics_snapshotdataset
  (snapshot_id, record_hashes, analysis_dataset_gz, computed_at, duration_ms)
SELECT id, record_hashes, analysis_dataset_gz, computed_at, 0
FROM analytics_statisticssnapshot;
"""
# Back again (the snapshot rows refuse UPDATE, so their trigger is off while they are filled).
COPY_BACK = """
ALTER TABLE analytics_statisticssnapshot DISABLE TRIGGER analytics_snapshot_immutable;
UPDATE analytics_statisticssnapshot s
SET record_hashes = d.record_hashes, analysis_dataset_gz = d.analysis_dataset_gz
FROM analytics_snapshotdataset d WHERE d.snapshot_id = s.id;
ALTER TABLE analytics_statisticssnapshot ENABLE TRIGGER analytics_snapshot_immutable;
"""
# Written once, as the other stages; stored as 0005 stored these columns on the snapshot.
IMMUTABLE = """
CREATE TRIGGER analytics_dataset_immutable BEFORE UPDATE OR DELETE
  ON analytics_snapshotdataset FOR EACH ROW EXECUTE FUNCTION analytics_snapshot_immutable();
ALTER TABLE analytics_snapshotdataset ALTER COLUMN analysis_dataset_gz SET STORAGE EXTERNAL;
DO $$
BEGIN
  ALTER TABLE analytics_snapshotdataset ALTER COLUMN record_hashes SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 not available: record hashes keep the default compression';
END $$;
"""
MUTABLE = "DROP TRIGGER IF EXISTS analytics_dataset_immutable ON analytics_snapshotdataset;"
RESTORE_STORAGE = """
ALTER TABLE analytics_statisticssnapshot ALTER COLUMN analysis_dataset_gz SET STORAGE EXTERNAL;
DO $$
BEGIN
  ALTER TABLE analytics_statisticssnapshot ALTER COLUMN record_hashes SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 not available: record hashes keep the default compression';
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0005_snapshot_compression"),
    ]

    operations = [
        migrations.CreateModel(
            name="SnapshotDataset",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "record_hashes",
                    models.JSONField(default=dict, help_text="record_id -> SHA-256 of its data."),
                ),
                (
                    "analysis_dataset_gz",
                    models.BinaryField(
                        default=bytes,
                        help_text="The analysis dataset behind the figures, as gzipped CSV.",
                    ),
                ),
                ("computed_at", models.DateTimeField(auto_now_add=True)),
                ("duration_ms", models.PositiveIntegerField()),
                (
                    "snapshot",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="dataset",
                        to="analytics.statisticssnapshot",
                    ),
                ),
            ],
        ),
        migrations.RunSQL(COPY, COPY_BACK),
        # Reversed, the columns come back before the rows are copied back into them.
        migrations.RunSQL(migrations.RunSQL.noop, RESTORE_STORAGE),
        migrations.RemoveField(model_name="statisticssnapshot", name="analysis_dataset_gz"),
        migrations.RemoveField(model_name="statisticssnapshot", name="record_hashes"),
        migrations.RunSQL(IMMUTABLE, MUTABLE),
    ]

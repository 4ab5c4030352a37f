from django.db import migrations, models

# Compressed as the snapshot's own curves (0005): lz4 where the server has it.
FASTER = """
DO $$
BEGIN
  ALTER TABLE analytics_snapshotdataset ALTER COLUMN curves SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 not available: the curves keep the default compression';
END $$;
"""


class Migration(migrations.Migration):
    """The curves the dashboard does not draw at once are stored with the snapshot's records
    from now on; snapshots stored before keep every curve in their own row (readers look there
    first)."""

    dependencies = [
        ("analytics", "0006_snapshot_dataset"),
    ]

    operations = [
        migrations.AddField(
            model_name="snapshotdataset",
            name="curves",
            field=models.JSONField(
                default=dict,
                help_text="The Kaplan-Meier curves of the endpoints the dashboard does not draw "
                "at once (results.DRAWN_CURVES stay with the snapshot).",
            ),
        ),
        migrations.RunSQL(FASTER, migrations.RunSQL.noop),
    ]

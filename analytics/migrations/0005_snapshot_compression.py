from django.db import migrations

# The snapshot's large values: JSON curves and record hashes compressed with lz4 (several times
# faster to store than PostgreSQL's default pglz), and the analysis dataset, gzipped already,
# stored out of line without a second compression. A server built without lz4 keeps pglz.
FASTER = """
ALTER TABLE analytics_statisticssnapshot ALTER COLUMN analysis_dataset_gz SET STORAGE EXTERNAL;
DO $$
BEGIN
  ALTER TABLE analytics_statisticssnapshot
    ALTER COLUMN curves SET COMPRESSION lz4,
    ALTER COLUMN record_hashes SET COMPRESSION lz4,
    ALTER COLUMN results SET COMPRESSION lz4;
  ALTER TABLE analytics_snapshotdetail ALTER COLUMN curves SET COMPRESSION lz4;
  ALTER TABLE analytics_snapshotpaper ALTER COLUMN curves SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 not available: snapshot columns keep the default compression';
END $$;
"""
DEFAULT = """
ALTER TABLE analytics_statisticssnapshot ALTER COLUMN analysis_dataset_gz SET STORAGE EXTENDED;
ALTER TABLE analytics_statisticssnapshot
  ALTER COLUMN curves SET COMPRESSION DEFAULT,
  ALTER COLUMN record_hashes SET COMPRESSION DEFAULT,
  ALTER COLUMN results SET COMPRESSION DEFAULT;
ALTER TABLE analytics_snapshotdetail ALTER COLUMN curves SET COMPRESSION DEFAULT;
ALTER TABLE analytics_snapshotpaper ALTER COLUMN curves SET COMPRESSION DEFAULT;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0004_snapshot_paper"),
    ]

    operations = [migrations.RunSQL(FASTER, DEFAULT)]

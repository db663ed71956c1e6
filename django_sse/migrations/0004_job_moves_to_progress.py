"""The Job model now belongs to the optional ``django_sse.progress`` app.

State only: the table stays where it is, and ``django_sse_progress``'s first
migration takes it over (same table name), so existing jobs are kept.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("django_sse", "0003_sqlite_head_trigger")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Job")],
            database_operations=[],
        )
    ]

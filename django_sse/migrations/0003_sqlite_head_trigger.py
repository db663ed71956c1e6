"""On SQLite, a trigger keeps each stream's head at its newest event.

It lets ``django_sse.store.append`` store an event in one statement (SQLite has
no data-changing CTEs): the insert reads the head, the trigger moves it, and a
single statement is atomic and takes SQLite's write lock before it reads.
Other databases need no trigger.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TRIGGER = "django_sse_event_moves_head"


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute(
        f"CREATE TRIGGER IF NOT EXISTS {TRIGGER} AFTER INSERT ON django_sse_event BEGIN "
        "INSERT INTO django_sse_stream (name, seq) VALUES (NEW.stream, NEW.seq) "
        "ON CONFLICT (name) DO UPDATE SET seq = MAX(seq, excluded.seq); END"
    )


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")


class Migration(migrations.Migration):
    dependencies = [("django_sse", "0002_job")]

    operations = [migrations.RunPython(create, drop, elidable=False)]

from django.db import connections

ARCHIVE_MODELS = {"library.archivedbook"}


class PrimaryReplicaRouter:
    """Writes go to the primary ("default"), reads to the replica, archived books to "archive".

    Once the primary has a transaction open (the request has started writing, or a TestCase
    holds one), reads go to the primary too, so that they see those writes.
    """

    def db_for_read(self, model, **hints):
        if model._meta.label_lower in ARCHIVE_MODELS:
            return "archive"
        if connections["default"].in_atomic_block:
            return "default"
        return "replica"

    def db_for_write(self, model, **hints):
        return "archive" if model._meta.label_lower in ARCHIVE_MODELS else "default"

    def allow_relation(self, obj1, obj2, **hints):
        if {obj1._state.db, obj2._state.db} <= {"default", "replica"}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        is_archive = f"{app_label}.{model_name}" in ARCHIVE_MODELS
        if db == "archive":
            return is_archive
        return db == "default" and not is_archive

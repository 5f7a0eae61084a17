from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from apierrors.dictionary.sync import sync_declared_codes


class Command(BaseCommand):
    help = (
        "Add the error codes declared in code that the database lacks. "
        "Existing entries (and every admin edit) are left untouched."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, database: str, **options) -> None:
        created = sync_declared_codes(using=database)
        if created:
            self.stdout.write(f"Added {len(created)} error code(s): {', '.join(created)}")
        else:
            self.stdout.write("The error dictionary already has every declared code.")

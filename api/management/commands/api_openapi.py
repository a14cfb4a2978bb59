from django.core.management.base import BaseCommand

from api.openapi import SNAPSHOT, openapi_text


class Command(BaseCommand):
    help = "Print the API's OpenAPI document, or --write it to docs/api/openapi-v1.json (the snapshot)."

    def add_arguments(self, parser):
        parser.add_argument("--write", action="store_true", help="Refresh the committed snapshot.")

    def handle(self, *args, write=False, **options):
        text = openapi_text()
        if write:
            SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
            SNAPSHOT.write_text(text)
            self.stdout.write(f"wrote {SNAPSHOT}")
        else:
            self.stdout.write(text, ending="")

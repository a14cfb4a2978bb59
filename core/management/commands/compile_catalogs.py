from django.core.management.base import BaseCommand

from core.catalogs import ROOT, compile_all


class Command(BaseCommand):
    help = "Compile every django.po of the project to django.mo with babel (no GNU gettext needed)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Recompile catalogs that look up to date.")

    def handle(self, *args, force=False, **options):
        compiled = compile_all(force=force)
        for path in compiled:
            self.stdout.write(str(path.relative_to(ROOT)))
        self.stdout.write(f"compiled {len(compiled)} catalog(s)")

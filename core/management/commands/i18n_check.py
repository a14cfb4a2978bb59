from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.i18n_check import check, project_app_names


class Command(BaseCommand):
    help = (
        "Fail when a de/es catalog lacks a msgid of its app (extracted as makemessages would), an entry is "
        "empty, fuzzy or has other placeholders, or a template shows unmarked text. Pure Python (babel)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "parts", nargs="*", help='App names, or "project" (templates/, config/). Default: all.'
        )

    def handle(self, *args, parts=(), **options):
        root = settings.BASE_DIR
        known = project_app_names(root)
        unknown = [name for name in parts if name not in known]
        if unknown:
            raise CommandError(f"Unknown part(s) {', '.join(unknown)}; choose from {', '.join(known)}.")
        problems = check(root, list(parts) or known)
        for problem in problems:
            self.stdout.write(str(problem))
        if problems:
            raise CommandError(f"{len(problems)} translation problem(s).")
        self.stdout.write(self.style.SUCCESS(f"Translations complete: {', '.join(parts or known)}."))

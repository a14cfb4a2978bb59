from django.apps import AppConfig


class TeamConfig(AppConfig):
    name = "team"
    verbose_name = "Team, invitations and audit log"

    def ready(self):
        # Accept a pending invitation as soon as its person finished allauth's sign-up.
        from team import receivers  # noqa: F401

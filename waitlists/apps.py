from django.apps import AppConfig


class WaitlistsConfig(AppConfig):
    name = "waitlists"

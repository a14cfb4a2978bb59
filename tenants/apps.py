from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants and people"
    url_prefix = "dashboard/"  # the dashboard home and tenant switch (core.registry mounts it here)

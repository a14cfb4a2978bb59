"""URL map. App URLs are included here; the tenant's public pages (``/<tenant-slug>/…``) come last so
that fixed prefixes always win (tenant slugs cannot take a reserved prefix)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from api.api import api
from core import views as core_views
from core.registry import app_config, app_modules
from tenants import views as tenant_views
from tenants.lookup import tenant_lookup

urlpatterns = [
    path("", tenant_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("robots.txt", core_views.robots, name="robots"),
    path("admin/", admin.site.urls),
    # The language switcher's target (POST); no URL carries a language prefix.
    path("i18n/setlang/", tenant_views.set_language, name="set_language"),
    # django-allauth: login, logout, sign-up, email verification and change, password reset, 2FA.
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
]

# Each project app adds its own routes in <app>/urls.py (``urlpatterns``, mounted at its AppConfig's
# ``url_prefix``) and its tenant public routes in ``public_urlpatterns`` (mounted under /<tenant_slug>/).
# Namespaces: ``<app_name>`` and ``<app_name>_public``. The apps come from core.registry.
for _app, _module in app_modules("urls"):
    _namespace = getattr(_module, "app_name", _app)
    _prefix = getattr(app_config(_app), "url_prefix", "")
    urlpatterns.append(path(_prefix, include((_module.urlpatterns, _namespace))))
    if getattr(_module, "public_urlpatterns", None):
        urlpatterns.append(
            path("<slug:tenant_slug>/", include((_module.public_urlpatterns, f"{_namespace}_public")))
        )

urlpatterns.append(path("<slug:tenant_slug>/lookup/", tenant_lookup, name="tenant_lookup"))
urlpatterns.append(path("<slug:tenant_slug>/", tenant_views.public_home, name="tenant_home"))

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "core.views.not_found"

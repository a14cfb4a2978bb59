from django.urls import path

from onboarding import views

app_name = "onboarding"

DASH = "dashboard/<slug:tenant_slug>/"

urlpatterns = [
    path("start/", views.start, name="start"),
    path("start/address/", views.address_check, name="address_check"),
    path(DASH + "setup/", views.setup_home, name="setup"),
    path(DASH + "setup/<slug:kind>/", views.setup_kind, name="setup_kind"),
    path(DASH + "setup/<slug:kind>/<slug:slug>/share/", views.share, name="share"),
    path(DASH + "security/", views.security, name="security"),
]

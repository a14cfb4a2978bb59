from django.urls import path

from branding import views

app_name = "branding"

urlpatterns = [
    path("dashboard/<slug:tenant_slug>/branding/", views.edit, name="edit"),
]

public_urlpatterns = [
    path("brand.css", views.stylesheet, name="stylesheet"),
    path("brand/logo/", views.logo, name="logo"),
]

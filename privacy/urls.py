from django.urls import path

from privacy import views

app_name = "privacy"

D = "dashboard/<slug:tenant_slug>/privacy/"

urlpatterns = [
    path(D, views.requests_list, name="requests"),
    path(D + "<int:request_id>/export.json", views.request_download, name="download"),
    path(D + "<int:request_id>/<slug:action>/", views.request_action, name="action"),
]

public_urlpatterns = [
    path("privacy/", views.ask, name="ask"),
    path("privacy/confirm/<str:token>/", views.confirm, name="confirm"),
    path("privacy/export/<str:token>/", views.export_download, name="export"),
]

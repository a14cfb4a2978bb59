from django.urls import path

from api import views

app_name = "apikeys"

urlpatterns = [
    path("dashboard/<slug:tenant_slug>/api-keys/", views.api_keys, name="keys"),
    path("dashboard/<slug:tenant_slug>/api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="revoke"),
]

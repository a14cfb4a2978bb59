from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("dashboard/<slug:tenant_slug>/notifications/", views.delivery_log, name="log"),
    path(
        "dashboard/<slug:tenant_slug>/notifications/<int:message_id>/",
        views.message_detail,
        name="message",
    ),
    path(
        "dashboard/<slug:tenant_slug>/notifications/<int:message_id>/retry/",
        views.message_retry_view,
        name="retry",
    ),
    path(
        "dashboard/<slug:tenant_slug>/notifications/preferences/",
        views.my_preferences,
        name="preferences",
    ),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("unsubscribe/<str:token>/preferences/", views.preferences_by_link, name="preferences_public"),
]

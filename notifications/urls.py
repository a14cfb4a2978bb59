from django.urls import path

from notifications import views, views_webhooks

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
    path("dashboard/<slug:tenant_slug>/webhooks/", views_webhooks.endpoint_list, name="webhooks"),
    path(
        "dashboard/<slug:tenant_slug>/webhooks/new/", views_webhooks.endpoint_create_view, name="webhook_new"
    ),
    path(
        "dashboard/<slug:tenant_slug>/webhooks/<int:endpoint_id>/",
        views_webhooks.endpoint_detail,
        name="webhook",
    ),
    path(
        "dashboard/<slug:tenant_slug>/webhooks/<int:endpoint_id>/edit/",
        views_webhooks.endpoint_edit_view,
        name="webhook_edit",
    ),
    path(
        "dashboard/<slug:tenant_slug>/webhooks/<int:endpoint_id>/disable/",
        views_webhooks.endpoint_disable_view,
        name="webhook_disable",
    ),
    path(
        "dashboard/<slug:tenant_slug>/webhooks/<int:endpoint_id>/enable/",
        views_webhooks.endpoint_enable_view,
        name="webhook_enable",
    ),
    path(
        "dashboard/<slug:tenant_slug>/webhooks/<int:endpoint_id>/rotate-secret/",
        views_webhooks.endpoint_rotate_view,
        name="webhook_rotate",
    ),
    path(
        "dashboard/<slug:tenant_slug>/webhooks/deliveries/<int:message_id>/redeliver/",
        views_webhooks.redeliver_view,
        name="webhook_redeliver",
    ),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("unsubscribe/<str:token>/preferences/", views.preferences_by_link, name="preferences_public"),
]

from django.urls import path

from support import views_dashboard as dashboard
from support import views_public as public

app_name = "support"

DASH = "dashboard/<slug:tenant_slug>/support/"
TICKET = DASH + "tickets/<str:reference>/"

urlpatterns = [
    path("status/<str:reference>/support/", public.customer_ticket, name="customer_ticket"),
    path(
        "status/<str:reference>/support/files/<int:pk>/",
        public.customer_attachment,
        name="customer_attachment",
    ),
    path(DASH, dashboard.inbox, name="inbox"),
    path(DASH + "bulk/", dashboard.bulk, name="bulk"),
    path(DASH + "settings/", dashboard.settings_list, name="settings_list"),
    path(DASH + "settings/<slug:queue_slug>/", dashboard.settings_edit, name="settings_edit"),
    path(
        DASH + "settings/<slug:queue_slug>/subcategories/",
        dashboard.subcategories_edit,
        name="subcategories_edit",
    ),
    path(TICKET, dashboard.ticket, name="ticket"),
    path(TICKET + "comment/", dashboard.comment, name="comment"),
    path(TICKET + "comments/<int:pk>/edit/", dashboard.comment_edit, name="comment_edit"),
    path(TICKET + "transition/", dashboard.transition, name="transition"),
    path(TICKET + "assign/", dashboard.assign, name="assign"),
    path(TICKET + "escalate/", dashboard.escalate, name="escalate"),
    path(TICKET + "files/<int:pk>/", dashboard.attachment, name="attachment"),
]

public_urlpatterns = [
    path("help/", public.help_home, name="help_home"),
    path("help/<slug:queue_slug>/", public.submit, name="submit"),
]

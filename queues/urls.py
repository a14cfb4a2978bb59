from django.urls import path

from queues import views_dashboard as dashboard
from queues import views_insight as insight
from queues import views_public as public
from queues import views_types as types

app_name = "queues"

DASH = "dashboard/<slug:tenant_slug>/queues/"

urlpatterns = [
    path("status/", public.status_lookup, name="status_lookup"),
    path("status/<str:reference>/", public.status, name="status"),
    path(DASH, dashboard.queue_list, name="queue_list"),
    path(DASH + "new/", dashboard.queue_create, name="queue_create"),
    path(DASH + "types/", dashboard.type_list, name="type_list"),
    path(DASH + "types/new/", dashboard.type_edit, name="type_create"),
    path(DASH + "types/<int:pk>/", dashboard.type_edit, name="type_edit"),
    # The form (states, transitions, custom fields as rows) with the diagram; the two above are the
    # advanced JSON view of the same types.
    path(DASH + "types/new/form/", types.type_build, name="type_build_create"),
    path(DASH + "types/<int:pk>/form/", types.type_build, name="type_build"),
    path(DASH + "tickets/<str:reference>/", dashboard.ticket_detail, name="ticket_detail"),
    path(DASH + "tickets/<str:reference>/transition/", dashboard.ticket_transition, name="ticket_transition"),
    path(DASH + "tickets/<str:reference>/assign/", dashboard.ticket_assign, name="ticket_assign"),
    path(DASH + "tickets/<str:reference>/lane/", dashboard.ticket_lane, name="ticket_lane"),
    path(DASH + "tickets/<str:reference>/comment/", dashboard.ticket_comment, name="ticket_comment"),
    path(DASH + "tickets/<str:reference>/items/", dashboard.ticket_item_add, name="ticket_item_add"),
    path(
        DASH + "tickets/<str:reference>/items/<int:pk>/",
        dashboard.ticket_item_change,
        name="ticket_item_change",
    ),
    path(
        DASH + "tickets/<str:reference>/items/<int:pk>/remove/",
        dashboard.ticket_item_remove,
        name="ticket_item_remove",
    ),
    path(DASH + "attachments/<int:pk>/", dashboard.attachment_download, name="attachment"),
    path(DASH + "<slug:queue_slug>/", dashboard.queue_board, name="queue_board"),
    path(DASH + "<slug:queue_slug>/call-next/", dashboard.call_next, name="call_next"),
    path(DASH + "<slug:queue_slug>/tickets/", dashboard.ticket_list, name="ticket_list"),
    path(DASH + "<slug:queue_slug>/settings/", dashboard.queue_settings, name="queue_settings"),
    path(DASH + "<slug:queue_slug>/eta/", insight.queue_eta, name="queue_eta"),
    path(DASH + "<slug:queue_slug>/served/", insight.queue_served, name="queue_served"),
    path(DASH + "<slug:queue_slug>/served.csv", insight.queue_served_csv, name="queue_served_csv"),
    path(DASH + "<slug:queue_slug>/lanes/<int:lane_id>/", dashboard.lane_settings, name="lane_settings"),
]

public_urlpatterns = [
    path("q/<slug:queue_slug>/", public.submit, name="submit"),
]

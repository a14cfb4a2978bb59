from django.urls import path

from waitingroom import views, views_fairness

app_name = "waitingroom"

D = "dashboard/<slug:tenant_slug>/waiting-rooms/"

urlpatterns = [
    path(D, views.dashboard_rooms, name="rooms"),
    path(D + "<int:event_id>/", views.dashboard_room, name="room"),
    path(D + "<int:event_id>/pause/", views.dashboard_pause, name="pause"),
    path(D + "<int:event_id>/admit/", views.dashboard_admit, name="admit"),
]

# Mounted under /<tenant_slug>/ as ``waitingroom_public``.
public_urlpatterns = [
    path("e/<slug:event_slug>/waiting-room/", views.room_page, name="room"),
    path("e/<slug:event_slug>/waiting-room/join/<str:signed>/", views.verify, name="verify"),
    path("e/<slug:event_slug>/fairness/", views_fairness.fairness_page, name="fairness"),
    path("e/<slug:event_slug>/fairness/log.jsonl", views_fairness.fairness_log, name="fairness_log"),
    path("line/<str:token>/", views.entry_page, name="entry"),
    path("line/<str:token>/status/", views.entry_status, name="status"),
    path("line/<str:token>/leave/", views.leave, name="leave"),
]

from django.urls import path

from waitlists import views

app_name = "waitlists"

D = "dashboard/<slug:tenant_slug>/waitlists/"

urlpatterns = [
    path(D, views.dashboard_events, name="events"),
    path(D + "<int:event_id>/", views.dashboard_event, name="event"),
    path(D + "<int:event_id>/offer/", views.dashboard_offer_round, name="offer_round"),
    path(D + "<int:event_id>/settings/", views.dashboard_settings, name="settings"),
    path(D + "<int:event_id>/entries/<int:entry_id>/offer/", views.dashboard_offer_now, name="offer_now"),
    path(D + "<int:event_id>/entries/<int:entry_id>/withdraw/", views.dashboard_withdraw, name="withdraw"),
]

# Mounted under /<tenant_slug>/ as ``waitlists_public``.
public_urlpatterns = [
    path("e/<slug:event_slug>/waitlist/", views.join, name="join"),
    path("waitlist/<str:token>/", views.entry_page, name="entry"),
    path("waitlist/<str:token>/leave/", views.leave, name="leave"),
    path("waitlist/<str:token>/offer/<str:signed>/", views.offer_page, name="offer"),
]

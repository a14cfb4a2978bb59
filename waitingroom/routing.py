from django.urls import path

from waitingroom.consumers import EntryConsumer, StaffConsumer

websocket_urlpatterns = [
    path("ws/waitingroom/staff/<int:tenant_id>/<int:event_id>/", StaffConsumer.as_asgi()),
    path("ws/waitingroom/<str:token>/", EntryConsumer.as_asgi()),
]

from django.urls import path

from ticketing.consumers import AvailabilityConsumer

websocket_urlpatterns = [
    path("ws/ticketing/<int:tenant_id>/events/<int:event_id>/", AvailabilityConsumer.as_asgi()),
]

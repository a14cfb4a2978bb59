from django.urls import path

from waitlists.consumers import PositionConsumer

websocket_urlpatterns = [
    path("ws/waitlists/<str:token>/", PositionConsumer.as_asgi()),
]

from django.urls import path

from support import consumers

websocket_urlpatterns = [
    path("ws/support/status/<str:reference>/", consumers.CustomerTicketConsumer.as_asgi()),
]

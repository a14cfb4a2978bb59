from django.urls import path

from queues import consumers

websocket_urlpatterns = [
    path("ws/queues/status/<str:reference>/", consumers.StatusConsumer.as_asgi()),
    path("ws/queues/queue/<int:queue_id>/", consumers.QueueCardConsumer.as_asgi()),
    path(
        "ws/queues/dashboard/<slug:tenant_slug>/queues/<slug:queue_slug>/",
        consumers.DashboardConsumer.as_asgi(),
    ),
]

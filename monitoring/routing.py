from django.urls import path

from .consumers import FeedConsumer, OwnSeatConsumer

websocket_urlpatterns = [
    path("ws/admin/feed/", FeedConsumer.as_asgi()),
    path("ws/admin/my-seat/", OwnSeatConsumer.as_asgi()),
]

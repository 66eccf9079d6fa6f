from django.urls import path, re_path

from chat.consumers import ChatConsumer, UnknownPathConsumer

websocket_urlpatterns = [
    path("ws/chat/<uuid:public_id>/", ChatConsumer.as_asgi()),
    re_path(r"", UnknownPathConsumer.as_asgi()),
]

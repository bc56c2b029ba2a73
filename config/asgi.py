import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Django first: the routing below imports models, which needs the app registry ready.
django.setup(set_prefix=False)  # what get_asgi_application() does before building its one handler

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.api_stack import SplitASGI  # noqa: E402
from monitoring.routing import websocket_urlpatterns  # noqa: E402

# The socket authenticates with the admin's session cookie; the consumer checks origin and role itself.
application = ProtocolTypeRouter(
    {"http": SplitASGI(), "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns))}
)

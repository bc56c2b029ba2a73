import os

from django.core.asgi import get_asgi_application

from config.body_guard import BodyGuard

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Bodies arrive whole, within the size limit and in time, before Django sees them (config/body_guard.py).
application = BodyGuard(get_asgi_application())

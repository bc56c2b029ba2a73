import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)  # what get_wsgi_application() does before building its one handler

from config.api_stack import SplitWSGI  # noqa: E402 - needs the app registry ready

application = SplitWSGI()

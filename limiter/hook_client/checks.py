"""A Django system check: the server cannot hand out a client it has not built."""

from django.core import checks

from .files import CLIENT_PATH


@checks.register(checks.Tags.compatibility)
def built_client_present(app_configs, **kwargs):
    if CLIENT_PATH.is_file():
        return []
    return [
        checks.Error(
            f"The hook client {CLIENT_PATH} has not been built, so /install.sh cannot work.",
            hint="Run `make install` (or `python limiter/hook_client/build.py`).",
            id="limiter.E001",
        )
    ]

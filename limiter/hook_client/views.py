"""Serving the hook client and its installer, and letting an uninstalling machine give its token back."""

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services
from ..api.views import ERRORS, HookView
from . import server_url
from .files import client_file, installer_script


def _download(body: bytes | str, content_type: str, filename: str, digest: str | None = None) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    if digest:
        response["X-Content-SHA256"] = digest
    return response


class ClientFileView(APIView):
    authentication_classes = []

    @extend_schema(exclude=True)
    def get(self, request):
        data, digest = client_file()
        return _download(data, "text/x-python; charset=utf-8", "governor_hook.py", digest)


class ClientDigestView(APIView):
    authentication_classes = []

    @extend_schema(exclude=True)
    def get(self, request):
        _, digest = client_file()
        body = f"{digest}  governor_hook.py\n"
        return _download(body, "text/plain; charset=utf-8", "governor_hook.py.sha256")


class InstallScriptView(APIView):
    """The installer with this server's address baked in: PUBLIC_URL, else the host the request came to."""

    authentication_classes = []

    @extend_schema(exclude=True)
    def get(self, request):
        script = installer_script(server_url(request))
        return _download(script, "text/x-shellscript; charset=utf-8", "install.sh")


class RevokeView(HookView):
    """`POST /api/v1/revoke` (Governor extension): an uninstalled machine retires its own token."""

    @extend_schema(request=None, responses={200: None, **ERRORS})
    def post(self, request):
        services.token_revoke(token=request.auth, by="hook client (uninstall)", now=timezone.now())
        return Response({"revoked": True})

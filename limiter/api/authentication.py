"""Hook token authentication: Bearer header, or `auth_token` in the JSON body (the header wins)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated

from config.crypto import digest

from ..token_lookup import token_holder


class HookTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            token = ""
            if request.method == "POST":
                body_token = getattr(request._request, "hook_payload", {}).get("auth_token")
                token = body_token if isinstance(body_token, str) else ""
        token = token.strip()
        if not token:
            raise NotAuthenticated("auth_token required")
        try:
            token_hash = digest(token)
        except UnicodeEncodeError:  # a lone surrogate from a JSON escape: no token of ours looks like that
            raise AuthenticationFailed("Invalid auth_token") from None
        holder = token_holder(token_hash)
        if holder is None:
            raise AuthenticationFailed("Invalid auth_token")
        return (holder.seat, holder)

    def authenticate_header(self, request):
        return "Bearer"


class HookTokenScheme(OpenApiAuthenticationExtension):
    """Documents the hook token in the OpenAPI schema (the body `auth_token` form is v1 legacy)."""

    target_class = HookTokenAuthentication
    name = "hookToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "The token /register returned."}

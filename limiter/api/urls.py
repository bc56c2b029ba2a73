from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from ..hook_client import views as client_views
from . import views

ENDPOINTS = [
    ("register", views.RegisterView, "hook-register"),
    ("sync", views.SyncView, "hook-sync"),
    ("check", views.CheckView, "hook-check"),
    ("count", views.CountView, "hook-count"),
    ("status", views.StatusView, "hook-status"),
    ("health", views.HealthView, "hook-health"),
    ("token/rotate", views.RotateTokenView, "hook-token-rotate"),
    ("revoke", client_views.RevokeView, "hook-revoke"),
]

urlpatterns = [
    *(path(route, view.as_view(), name=name) for route, view, name in ENDPOINTS),
    # The contract's paths have no trailing slash; one is tolerated, and kept out of the schema.
    *(path(f"{route}/", view.as_view(schema=None)) for route, view, _ in ENDPOINTS),
    path("client.py", client_views.ClientFileView.as_view(), name="hook-client"),
    path("client.py.sha256", client_views.ClientDigestView.as_view(), name="hook-client-sha256"),
    path("schema", SpectacularAPIView.as_view(), name="hook-schema"),
    re_path(r"^.*$", views.not_found),
]

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from ..hook_client import views as client_views
from . import views

urlpatterns = [
    re_path(r"^register/?$", views.RegisterView.as_view(), name="hook-register"),
    re_path(r"^sync/?$", views.SyncView.as_view(), name="hook-sync"),
    re_path(r"^check/?$", views.CheckView.as_view(), name="hook-check"),
    re_path(r"^count/?$", views.CountView.as_view(), name="hook-count"),
    re_path(r"^status/?$", views.StatusView.as_view(), name="hook-status"),
    re_path(r"^health/?$", views.HealthView.as_view(), name="hook-health"),
    re_path(r"^token/rotate/?$", views.RotateTokenView.as_view(), name="hook-token-rotate"),
    re_path(r"^revoke/?$", client_views.RevokeView.as_view(), name="hook-revoke"),
    path("client.py", client_views.ClientFileView.as_view(), name="hook-client"),
    path("client.py.sha256", client_views.ClientDigestView.as_view(), name="hook-client-sha256"),
    path("schema", SpectacularAPIView.as_view(), name="hook-schema"),
    re_path(r"^.*$", views.not_found),
]

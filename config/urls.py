from django.contrib import admin
from django.urls import include, path

from limiter.api.views import RootHealthView

urlpatterns = [
    # Before admin.site.urls: replaces the admin's login page with single sign-on (monitoring/views.py).
    path("admin/", include("monitoring.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("health", RootHealthView.as_view(), name="health"),
    path("api/v1/", include("limiter.api.urls")),
]

from django.contrib import admin
from django.urls import include, path

from limiter.api.views import RootHealthView
from limiter.hook_client.views import InstallScriptView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health", RootHealthView.as_view(), name="health"),
    path("install.sh", InstallScriptView.as_view(), name="install-script"),
    path("api/v1/", include("limiter.api.urls")),
]

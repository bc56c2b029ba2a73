from django.contrib import admin
from django.urls import include, path
from limiter.api.views import RootHealthView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health", RootHealthView.as_view(), name="health"),
    path("api/v1/", include("limiter.api.urls")),
]

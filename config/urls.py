from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from limiter.api.views import RootHealthView
from limiter.hook_client.views import InstallScriptView

admin.site.site_header = "Claude Governor"
admin.site.site_title = "Claude Governor"
admin.site.index_title = "Seats, accounts and usage"

urlpatterns = [
    # Governor's pages are the admin: the bare address (and the admin's "View site" link) lead there.
    path("", RedirectView.as_view(url="/admin/", permanent=False), name="home"),
    # Before admin.site.urls: replaces the admin's login page with single sign-on (monitoring/views.py).
    path("admin/", include("monitoring.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("health", RootHealthView.as_view(), name="health"),
    path("install.sh", InstallScriptView.as_view(), name="install-script"),
    path("api/v1/", include("limiter.api.urls")),
]

# JSON for the hook API, the usual pages elsewhere (config/errors.py).
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"

"""Pages mounted under /admin/ ahead of the admin site itself (its login page is replaced)."""

from django.contrib import admin
from django.urls import path

from . import views

app_name = "monitoring"

urlpatterns = [
    path("login/", views.admin_login, name="login"),
    path("login/local/", views.local_login, name="local-login"),
    path("signed-out/", views.signed_out, name="signed-out"),
    path("my-seat/", admin.site.admin_view(views.my_seat), name="my-seat"),
]

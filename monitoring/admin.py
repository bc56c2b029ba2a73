"""The user list gains each person's Governor role and a "Force logout" action."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from . import roles
from .sessions import sessions_end

User = get_user_model()


class GovernorUserAdmin(UserAdmin):
    list_display = ("username", "email", "role", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    actions = ("force_logout",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="role")
    def role(self, user) -> str:
        return roles.role_of(user) or "no access"

    @admin.action(
        description="Force logout (the next login re-reads their groups)", permissions=["change"]
    )
    def force_logout(self, request, queryset):
        ended = sessions_end(user_ids=set(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Ended {ended} session(s).", messages.SUCCESS)


admin.site.unregister(User)
admin.site.register(User, GovernorUserAdmin)

"""The user list gains each person's Governor role and a "Force logout" action; third-party actions get gated.
The event log is browsable, read-only, under Records.

Importing the admin modules of auth and allauth registers their models, so they can be re-registered here
although this app comes first in INSTALLED_APPS.
"""

from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from limiter.admin import ReadOnlyAdmin

from . import roles
from .models import Event
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


class GovernorEmailAddressAdmin(EmailAddressAdmin):
    # allauth's action carries no permission, so view-only roles would be offered it.
    @admin.action(description="Mark selected email addresses as verified", permissions=["change"])
    def make_verified(self, request, queryset):
        return super().make_verified(request, queryset)


admin.site.unregister(EmailAddress)
admin.site.register(EmailAddress, GovernorEmailAddressAdmin)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """The raw event log: what the feed, the alerts and the audit trail read. Nobody edits history."""

    list_display = ("id", "at", "kind", "seat_id", "account_id", "actor")
    list_filter = ("kind",)
    search_fields = ("=kind", "actor")
    # At a million rows a second COUNT(*) for "n total" is the slowest part of the page.
    show_full_result_count = False
    readonly_fields = ("id", "at", "kind", "seat_id", "account_id", "actor", "data")

"""Admin adapters for alerts: channels with a write-only, masked config and "Send test", subscriptions,
silences, the delivery log, runtime settings.

Roles: admins see and change everything; role `user` creates and manages only their own channels,
subscriptions and silences (owner-scoped here, not by Django permissions); readonly reads, and never sees a
config: secrets are masked for everyone and hidden entirely from anyone but an admin or the owner.
"""

import json
from datetime import timedelta
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import ModelFormMetaclass
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from monitoring import roles

from . import config_forms, delivery, services
from .models import AlertSettings, Channel, Delivery, Silence, Subscription

CONFIG_HELP = {
    "discord": '{"url": "https://discord.com/api/webhooks/ID/TOKEN"}',
    "slack": '{"url": "https://hooks.slack.com/services/T…/B…/…"}',
    "pushover": '{"token": "APP_TOKEN", "user": "USER_OR_GROUP_KEY"}',
    "matrix": '{"room_id": "!room", "homeserver": "https://matrix.example.org", "access_token": "syt_…"}',
    "webhook": '{"url": "https://example.org/hook", "method": "POST", "headers": {"Authorization": "…"}, '
    '"body": "{\\"text\\": \\"{message}\\"}", "resolved_url": ""} — placeholders: {title} {message} '
    "{account} {pct} {limit_type} {threshold} {state} {resets_at} {event_id} {seat} {url}",
    "email": '{"to": "ops@example.org, lead@example.org"}',
    "ntfy": '{"server": "https://ntfy.sh", "topic": "governor-alerts", "token": "tk_…", "priority": 4}',
}


def _is_user_role(request) -> bool:
    return not request.user.is_superuser and roles.role_of(request.user) == roles.USER


def _owns(request, obj) -> bool:
    return request.user.is_superuser or (obj is not None and obj.owner_id == request.user.pk)


class OwnedAdmin(admin.ModelAdmin):
    """Role `user` lists, adds, changes and deletes only rows it owns; others follow Django permissions."""

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return rows.filter(**{self.owner_field: request.user}) if _is_user_role(request) else rows

    owner_field = "owner"

    def has_add_permission(self, request):
        return super().has_add_permission(request) or _is_user_role(request)

    def has_change_permission(self, request, obj=None):
        if _is_user_role(request):
            return obj is None or getattr(obj, self.owner_field + "_id") == request.user.pk
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (
            self.has_change_permission(request, obj)
            if _is_user_role(request)
            else super().has_delete_permission(request, obj)
        )

    def get_actions(self, request):
        # Actions touch many rows at once: admins only.
        return super().get_actions(request) if request.user.is_superuser else {}


class ChannelFormBase(forms.ModelForm):
    config = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "cols": 90}),
        required=False,
        label="Whole config as JSON",
        help_text="Instead of the fields of the kind, e.g. to paste a config kept in a file. Write-only. "
        "Examples per kind: " + "; ".join(f"{kind}: {example}" for kind, example in CONFIG_HELP.items()),
    )

    class Meta:
        model = Channel
        fields = ["kind", "name", "enabled", "config"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            config_forms.fill(self, self.instance.kind, self.instance.config)

    def clean(self):
        cleaned = super().clean() or {}
        if "config" not in self.fields:  # a form for someone who may not change the config
            return cleaned
        kind = cleaned.get("kind") or self.instance.kind
        stored = self.instance.config if self.instance.pk and kind == self.instance.kind else {}
        text = (cleaned.get("config") or "").strip()
        if text:
            raw = self._json(text)
        else:
            raw = config_forms.assemble(self, kind, stored)
            if raw == stored and stored:
                return cleaned  # unchanged: not re-validated, so a rename never waits for DNS
        if raw is None:
            return cleaned
        self.instance.kind = kind
        try:
            self.instance.set_config(raw)
        except ValidationError as exc:
            self.add_error(None, exc.message_dict.get("config_blob", exc.messages))
        return cleaned

    def _json(self, text: str) -> dict | None:
        try:
            raw = json.loads(text)
        except ValueError as exc:
            self.add_error("config", f"Not valid JSON: {exc}")
            return None
        if not isinstance(raw, dict):
            self.add_error("config", "The config is a JSON object.")
            return None
        return raw


# Every kind's fields are declared on the form, so the admin can list them in its fieldsets.
ChannelForm = cast(
    type[forms.ModelForm],
    ModelFormMetaclass(
        "ChannelForm", (ChannelFormBase,), {"__module__": __name__, **config_forms.declared_fields()}
    ),
)


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fk_name = "channel"
    fields = ("created_at", "what", "status", "attempts", "last_error", "sent_at", "is_test")
    readonly_fields = fields
    ordering = ("-id",)
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "delivery log, last 7 days (all: Deliveries, filtered by channel)"

    @admin.display(description="what")
    def what(self, obj: Delivery) -> str:
        return obj.summary()

    def get_queryset(self, request):
        # A busy channel has thousands of rows; the page shows the last week, the delivery list the rest.
        return super().get_queryset(request).filter(created_at__gte=timezone.now() - timedelta(days=7))

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Channel)
class ChannelAdmin(OwnedAdmin):
    form = ChannelForm
    list_display = ("name", "kind", "enabled", "disabled_reason", "last_error", "owner")
    list_filter = ("kind", "enabled")
    list_select_related = ("owner",)
    search_fields = ("name",)
    readonly_fields = ("masked", "disabled_reason", "last_error", "owner")
    inlines = [DeliveryInline]
    actions = ["send_test"]

    def get_queryset(self, request):
        # The list never decrypts: a config written with a dropped key must not take the page down.
        return super().get_queryset(request).defer("config_blob")

    def get_fieldsets(self, request, obj=None):
        fields = ["kind", "name", "enabled"]
        if obj is not None and _owns(request, obj):
            fields.append("masked")  # even masked, a config is only for its owner and admins
        fieldsets: list = [(None, {"fields": [*fields, "disabled_reason", "last_error", "owner"]})]
        if obj is None or self.has_change_permission(request, obj):
            fieldsets += config_forms.fieldsets(obj.kind if obj else None)
            fieldsets.append(("Advanced", {"fields": ["config"], "classes": ["collapse"]}))
        return fieldsets

    @admin.display(description="current config (masked)")
    def masked(self, obj: Channel) -> str:
        return format_html_join("", "<div><code>{}</code>: {}</div>", obj.masked_config().items())

    def save_model(self, request, obj, form, change):
        if not change and not request.user.is_superuser:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Send test (one attempt, no retry)")
    def send_test(self, request, queryset):
        for channel in queryset:
            self._report_test(request, channel)

    def _report_test(self, request, channel: Channel) -> None:
        result = delivery.send_test(channel)
        if result.status == Delivery.Status.SENT:
            self.message_user(request, f"{channel}: test sent.", messages.SUCCESS)
        else:
            self.message_user(request, f"{channel}: {result.error}", messages.ERROR)

    def get_urls(self):
        test = path(
            "<path:object_id>/send-test/",
            self.admin_site.admin_view(self.send_test_view),
            name="alerts_channel_send_test",
        )
        return [test, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Actions are for admins only (they touch many rows); the button tests the one channel on the page.
        channel = self.get_object(request, object_id)
        if channel is not None and self.has_change_permission(request, channel):
            url = reverse("admin:alerts_channel_send_test", args=[channel.pk])
            extra_context = (extra_context or {}) | {"send_test_url": url}
        return super().change_view(request, object_id, form_url, extra_context)

    def send_test_view(self, request, object_id):
        """POST only. The same answer for someone else's channel and a missing one: nothing to learn."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        channel = self.get_object(request, object_id)
        if channel is None or not self.has_change_permission(request, channel):
            raise PermissionDenied
        self._report_test(request, channel)
        return HttpResponseRedirect(reverse("admin:alerts_channel_change", args=[channel.pk]))


class SubscriptionForm(forms.ModelForm):
    class Meta:
        model = Subscription
        fields = [
            "name",
            "account",
            "channels",
            "enabled",
            "thresholds",
            "notify_credentials",
            "notify_window_reset",
            "notify_forecast",
            "notify_seats",
            "notify_seat_blocks",
            "notify_seat_credits",
            "seat_credit_pct",
            "notify_credits",
            "send_resolved",
            "cooldown",
            "repeat_interval",
            "hysteresis",
            "quiet_days",
            "quiet_start",
            "quiet_end",
            "quiet_tz",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A view-only admin (role readonly) builds this form with none of its fields.
        if "thresholds" in self.fields and not self.instance.pk and not self.initial.get("thresholds"):
            # Shown so people see what they get; left as is, the runtime default applies.
            self.fields["thresholds"].help_text += f" Now: {AlertSettings.current_thresholds()}."
        if "seat_credit_pct" in self.fields:
            # Only read with seat credit alerts on: a form (or a script) without it keeps the default.
            self.fields["seat_credit_pct"].required = False

    def clean_seat_credit_pct(self):
        value = self.cleaned_data.get("seat_credit_pct")
        return Subscription._meta.get_field("seat_credit_pct").default if value is None else value


@admin.register(Subscription)
class SubscriptionAdmin(OwnedAdmin):
    form = SubscriptionForm
    list_display = ("name", "account", "enabled", "channel_names", "cooldown", "send_resolved", "owner")
    list_select_related = ("account", "owner")
    filter_horizontal = ("channels",)

    @admin.display(description="channels")
    def channel_names(self, obj: Subscription) -> str:
        return ", ".join(c.name for c in obj.channels.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("channels")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "channels" and _is_user_role(request):
            kwargs["queryset"] = Channel.objects.filter(owner=request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change and not request.user.is_superuser:
            obj.owner = request.user
        super().save_model(request, obj, form, change)


@admin.register(Silence)
class SilenceAdmin(OwnedAdmin):
    owner_field = "created_by"
    list_display = ("target", "until", "reason", "created_by", "created_at")
    list_select_related = ("account", "subscription", "channel", "created_by")
    fields = ("account", "subscription", "channel", "until", "reason")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if _is_user_role(request) and db_field.name in ("subscription", "channel"):
            kwargs["queryset"] = db_field.related_model.objects.filter(owner=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "channel",
        "status",
        "attempts",
        "summary",
        "last_error",
        "event_link",
    )
    list_filter = ("status", "is_test", "channel")
    list_select_related = ("channel",)
    search_fields = ("=event__id",)
    readonly_fields = [f.name for f in Delivery._meta.fields if f.name != "id"]

    @admin.display(description="event")
    def event_link(self, obj: Delivery) -> str:
        if obj.event_id is None:
            return "test"
        url = reverse("admin:alerts_delivery_changelist") + f"?event__id__exact={obj.event_id}"
        return format_html('<a href="{}">#{} (all its deliveries)</a>', url, obj.event_id)

    def lookup_allowed(self, lookup, value, request=None):
        return lookup == "event__id__exact" or super().lookup_allowed(lookup, value, request)

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return rows.filter(channel__owner=request.user) if _is_user_role(request) else rows

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AlertSettings)
class AlertSettingsAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return super().has_add_permission(request) and not AlertSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = services.alert_settings_update(
            default_thresholds=obj.default_thresholds, by=request.user.get_username()
        )
        obj.pk = saved.pk

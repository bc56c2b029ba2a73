"""Admin adapters: write-only credentials, poll now, health and history. Decisions live in services."""

import logging

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from . import selectors, services
from .credentials import CredentialError, normalize
from .models import AccountSettings, ClaudeAccount, State, UsageSnapshot, WindowReset

log = logging.getLogger(__name__)

_STATE_COLOURS = {
    State.OK: "#2e7d32",
    State.NEW: "#616161",
    State.BLOCKED: "#ef6c00",
    State.RATE_LIMITED: "#ef6c00",
    State.UPSTREAM_ERROR: "#ef6c00",
    State.UNREACHABLE: "#ef6c00",
}


def _queue_poll(account_id: int) -> bool:
    """Ask a worker to poll now; if the broker is down the next beat tick polls it anyway (it is due)."""
    from .tasks import poll_account

    try:
        poll_account.apply_async(args=[account_id], expires=300)
    except Exception:
        log.warning("could not queue a poll for account %s; the next beat tick will poll it", account_id)
        return False
    return True


class ClaudeAccountForm(forms.ModelForm):
    new_credential = forms.CharField(
        label="Credential",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "size": 80}),
        help_text="Write-only. Cookie: the sessionKey value (sk-ant-sid…). OAuth: Claude Code's "
        ".credentials.json on one line. Admin API: the sk-ant-admin… key. Empty keeps the stored one.",
    )

    class Meta:
        model = ClaudeAccount
        fields = ["label", "source", "enabled", "cookie_issued_at", "org_uuid"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["source"].disabled = True
        else:
            self.fields["new_credential"].required = True

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        raw = cleaned.get("new_credential")
        source = cleaned.get("source") or self.instance.source
        if raw and source:
            try:
                cleaned["normalized_credential"] = normalize(source, raw)
            except CredentialError as exc:
                self.add_error("new_credential", str(exc))
        return cleaned


@admin.register(ClaudeAccount)
class ClaudeAccountAdmin(admin.ModelAdmin):
    form = ClaudeAccountForm
    list_display = [
        "label",
        "source",
        "state_badge",
        "state_since",
        "last_poll_at",
        "utilization",
        "cookie_age",
        "enabled",
    ]
    list_filter = ["state", "source", "enabled"]
    search_fields = ["label", "account_email", "organization_name"]
    actions = ["poll_now"]
    health_fields = [
        "state_badge",
        "state_since",
        "last_error",
        "cookie_age",
        "last_poll_at",
        "last_success_at",
        "next_poll_at",
        "consecutive_failures",
        "credential_updated_at",
    ]
    profile_fields = ["account_name", "account_email", "organization_name", "plan", "rate_limit_tier"]
    usage_fields = ["latest_windows", "recent_resets"]
    readonly_fields = [*health_fields, *profile_fields, *usage_fields]

    def get_queryset(self, request):
        # Write-only: never decrypt the credential for a page, so a dropped key cannot break the admin.
        return super().get_queryset(request).defer("credential")

    def get_fieldsets(self, request, obj=None):
        editable = ["label", "source", "new_credential", "cookie_issued_at", "org_uuid", "enabled"]
        if obj is None:
            return [(None, {"fields": editable})]
        return [
            (None, {"fields": editable}),
            ("Health", {"fields": self.health_fields}),
            ("Profile", {"fields": self.profile_fields}),
            ("Usage", {"fields": self.usage_fields}),
        ]

    @admin.display(description="state", ordering="state")
    def state_badge(self, obj):
        colour = _STATE_COLOURS.get(obj.state, "#c62828")
        return format_html('<b style="color:{}">{}</b>', colour, obj.get_state_display())

    @admin.display(description="latest utilization")
    def utilization(self, obj):
        parts = [
            f"{r.label} {'unknown' if r.utilization is None else f'{r.utilization:g}%'}"
            for r in selectors.latest_readings(obj)
            if r.limit_type in selectors.HEADROOM_WINDOWS
        ]
        return ", ".join(parts) or "-"

    @admin.display(description="cookie age")
    def cookie_age(self, obj):
        warning = selectors.cookie_warning(obj, AccountSettings.load(), timezone.now())
        return format_html('<span style="color:#ef6c00">{}</span>', warning) if warning else "-"

    @admin.display(description="windows")
    def latest_windows(self, obj):
        rows = []
        for f in selectors.account_forecasts(obj, timezone.now()):
            value = "unknown" if f.utilization is None else f"{f.utilization:g}%"
            pace = f.pace.stage if f.pace else "-"
            eta = f"{f.eta_full:%Y-%m-%d %H:%M}" if f.eta_full else "-"
            lasts = {True: "yes", False: "no", None: "-"}[f.will_last]
            resets = f"{f.resets_at:%Y-%m-%d %H:%M}" if f.resets_at else "-"
            rows.append((f.limit_type, value, resets, pace, eta, lasts))
        if not rows:
            return "no snapshot yet"
        body = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
        )
        return format_html(
            "<table><tr><th>window</th><th>utilization</th><th>resets (UTC)</th><th>pace</th>"
            "<th>100% at</th><th>lasts to reset</th></tr>{}</table>",
            body,
        )

    @admin.display(description="recent resets")
    def recent_resets(self, obj):
        resets = obj.resets.all()[:10]
        return (
            format_html_join(
                "",
                "<div>{} {} at {:%Y-%m-%d %H:%M}</div>",
                ((r.limit_type, r.get_kind_display(), r.detected_at) for r in resets),
            )
            or "-"
        )

    def save_model(self, request, obj, form, change):
        credential = form.cleaned_data.get("normalized_credential")
        if not change:
            created = services.account_create(
                label=obj.label,
                source=obj.source,
                credential=form.cleaned_data["new_credential"],
                org_uuid=obj.org_uuid,
                cookie_issued_at=obj.cookie_issued_at,
            )
            if not obj.enabled:
                ClaudeAccount.objects.filter(pk=created.pk).update(enabled=False)
            obj.pk, obj._state.adding = created.pk, False
        else:
            obj.org_pinned = bool(obj.org_uuid)
            obj.save(update_fields=["label", "enabled", "cookie_issued_at", "org_uuid", "org_pinned"])
            if credential:
                services.account_set_credential(
                    account=obj,
                    credential=form.cleaned_data["new_credential"],
                    cookie_issued_at=obj.cookie_issued_at
                    if "cookie_issued_at" in form.changed_data
                    else None,
                )
        if not change or credential:
            transaction.on_commit(lambda: _queue_poll(obj.pk))

    @admin.action(description="Poll selected accounts now", permissions=["change"])
    def poll_now(self, request, queryset):
        queued = sum(_queue_poll(pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(
            request, f"Queued {queued} poll(s).", messages.SUCCESS if queued else messages.WARNING
        )


class AccountSettingsForm(forms.ModelForm):
    class Meta:
        model = AccountSettings
        fields = [
            "poll_interval_seconds",
            "snapshot_retention",
            "cookie_expiry_warn_days",
            "cookie_lifetime_days",
        ]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        interval = cleaned.get("poll_interval_seconds")
        minimum = settings.ACCOUNTS_MIN_POLL_INTERVAL_SECONDS
        if interval is not None and interval < minimum:
            self.add_error("poll_interval_seconds", f"The poll interval must be at least {minimum} s.")
        if cleaned.get("snapshot_retention") == 0:
            self.add_error("snapshot_retention", "Keep at least one snapshot per account.")
        return cleaned


@admin.register(AccountSettings)
class AccountSettingsAdmin(admin.ModelAdmin):
    form = AccountSettingsForm

    def has_add_permission(self, request):
        return not AccountSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # One row: go straight to its form.
        return redirect("admin:accounts_accountsettings_change", AccountSettings.load().pk)

    def save_model(self, request, obj, form, change):
        try:
            services.account_settings_update(
                **{f: form.cleaned_data[f] for f in AccountSettingsForm.Meta.fields}
            )
        except services.AccountError as exc:
            self.message_user(request, str(exc), messages.ERROR)


@admin.register(UsageSnapshot)
class UsageSnapshotAdmin(admin.ModelAdmin):
    list_display = ["account", "taken_at", "values", "spend_used", "spend_currency"]
    list_filter = ["account"]
    list_select_related = ["account"]
    date_hierarchy = "taken_at"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("readings")

    @admin.display(description="windows")
    def values(self, obj):
        return ", ".join(
            f"{r.limit_type} {'unknown' if r.utilization is None else f'{r.utilization:g}%'}"
            for r in obj.readings.all()
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WindowReset)
class WindowResetAdmin(admin.ModelAdmin):
    list_display = ["account", "limit_type", "kind", "detected_at", "previous_resets_at", "new_resets_at"]
    list_filter = ["kind", "account"]
    list_select_related = ["account"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

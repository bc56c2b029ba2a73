"""Admin adapters: write-only credentials, poll now, health and history. Decisions live in services."""

import logging

from django import forms
from django.contrib import admin, messages
from django.db import router, transaction
from django.db.models import ProtectedError, RestrictedError
from django.db.models.deletion import Collector
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator, capfirst
from django.utils.timesince import timesince

from . import selectors, services
from .credentials import CredentialError, normalize
from .models import (
    AccountSettings,
    ClaudeAccount,
    State,
    UsageSnapshot,
    WindowReset,
    normalize_org_uuid,
    poll_interval_range,
)

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


def _with_age(text: str, fresh: selectors.Freshness, now) -> str:
    """The numbers followed by their age; stale ones in orange with the reason (contract §5)."""
    age = f"{timesince(fresh.taken_at, now, depth=1)} ago" if fresh.taken_at else ""
    if not fresh.stale:
        return format_html('{} <span style="color:#616161">({})</span>', text, age)
    return format_html('{} <b style="color:#ef6c00">(stale, {}: {})</b>', text, age, fresh.stale_reason)


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
        # A view-only role gets a form without editable fields: only adjust the ones present.
        if self.instance.pk and "source" in self.fields:
            self.fields["source"].disabled = True
        elif not self.instance.pk and "new_credential" in self.fields:
            self.fields["new_credential"].required = True

    def clean_org_uuid(self):
        value = self.cleaned_data.get("org_uuid") or ""
        return normalize_org_uuid(value) or value  # canonical form; the model validator rejects non-UUIDs

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
        "problem",
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
        readings = selectors.latest_readings(obj)
        parts = [
            f"{r.label} {'unknown' if r.utilization is None else f'{r.utilization:g}%'}"
            for r in readings
            if r.limit_type in selectors.HEADROOM_WINDOWS
        ]
        if not parts:
            return "-"
        now = timezone.now()
        return _with_age(", ".join(parts), selectors.freshness(obj, readings[0].taken_at, now), now)

    @admin.display(description="last error", ordering="last_error")
    def problem(self, obj):
        # The whole text is on the account's page; the list shows enough to tell accounts apart.
        return Truncator(obj.last_error).chars(120) if obj.last_error else "-"

    @admin.display(description="cookie age")
    def cookie_age(self, obj):
        warning = selectors.cookie_warning(obj, AccountSettings.load(), timezone.now())
        return format_html('<span style="color:#ef6c00">{}</span>', warning) if warning else "-"

    @admin.display(description="windows")
    def latest_windows(self, obj):
        now = timezone.now()
        usage = selectors.account_usage(obj, now)
        rows = []
        for f in usage.forecasts:
            value = "unknown" if f.utilization is None else f"{f.utilization:g}%"
            pace = "not forecast: numbers are stale" if f.withheld else f.pace.stage if f.pace else "-"
            eta = f"{f.eta_full:%Y-%m-%d %H:%M}" if f.eta_full else "-"
            lasts = {True: "yes", False: "no", None: "-"}[f.will_last]
            resets = f"{f.resets_at:%Y-%m-%d %H:%M}" if f.resets_at else "-"
            rows.append((f.limit_type, value, resets, pace, eta, lasts))
        if not rows:
            return "no snapshot yet"
        body = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
        )
        table = format_html(
            "<table><tr><th>window</th><th>utilization</th><th>resets (UTC)</th><th>pace</th>"
            "<th>100% at</th><th>lasts to reset</th></tr>{}</table>",
            body,
        )
        read = usage.freshness.taken_at
        return format_html(
            "<p>{}</p>{}", _with_age(f"Read at {read:%Y-%m-%d %H:%M} UTC", usage.freshness, now), table
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

    def get_deleted_objects(self, objs, request):
        """Counts instead of Django's nested list: an account has thousands of snapshots and readings, and
        the nested list joins the account (and so decrypts its credential) into every row."""
        accounts = list(objs)
        collector = Collector(using=router.db_for_write(ClaudeAccount))
        protected: list[str] = []
        try:
            collector.collect(accounts)
        except ProtectedError as exc:
            protected = [f"{capfirst(o._meta.verbose_name)}: {o}" for o in exc.protected_objects]
        except RestrictedError as exc:
            protected = [f"{capfirst(o._meta.verbose_name)}: {o}" for o in exc.restricted_objects]
        counts: dict[str, int] = {}
        models_seen = set(collector.data)
        for model, rows in collector.data.items():
            counts[str(model._meta.verbose_name_plural)] = len(rows)
        for queryset in collector.fast_deletes:
            models_seen.add(queryset.model)
            name = str(queryset.model._meta.verbose_name_plural)
            counts[name] = counts.get(name, 0) + queryset.count()
        perms_needed = {
            str(model._meta.verbose_name)
            for model in models_seen
            if self.admin_site.is_registered(model)
            and not self.admin_site.get_model_admin(model).has_delete_permission(request)
        }
        listed = [f"Claude account: {a.label}" for a in accounts]
        listed += [f"{count} {name}" for name, count in counts.items() if name != "Claude accounts" and count]
        return listed, counts, perms_needed, protected

    @admin.action(description="Poll selected accounts now", permissions=["change"])
    def poll_now(self, request, queryset):
        queued = sum(_queue_poll(pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(
            request, f"Queued {queued} poll(s).", messages.SUCCESS if queued else messages.WARNING
        )


class AccountSettingsForm(forms.ModelForm):
    """Ranges come from the model's validators; the help text shows this deployment's poll interval range."""

    class Meta:
        model = AccountSettings
        fields = [
            "poll_interval_seconds",
            "snapshot_retention",
            "cookie_expiry_warn_days",
            "cookie_lifetime_days",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "poll_interval_seconds" in self.fields:
            self.fields[
                "poll_interval_seconds"
            ].help_text = f"Seconds between two polls of an account, {poll_interval_range()}."


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
                **{f: form.cleaned_data[f] for f in AccountSettingsForm.Meta.fields},
                by=request.user.get_username(),
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
        # The account is shown by its label: never decrypt its credential for this page.
        return (
            super()
            .get_queryset(request)
            .select_related("account")
            .defer("account__credential")
            .prefetch_related("readings")
        )

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

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account").defer("account__credential")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

"""The management UI for seats, rules, tokens and team settings. Actions call services."""

from itertools import pairwise
from typing import Protocol, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from . import counters, selectors, services
from .hook_client import install_command, server_url
from .models import Device, HookToken, Rule, Seat, SeatAccount, SessionEvent, Team, UsageEvent

STATUS_COLOURS = {Seat.ACTIVE: "#2e7d32", Seat.PAUSED: "#ef6c00", Seat.KILLED: "#c62828"}
RECENT_USAGE_ROWS = 20


class RuleInline(admin.TabularInline):
    model = Rule
    extra = 0
    fields = ("position", "type", "model", "window", "value", "schedule_start", "schedule_end", "schedule_tz")
    ordering = ("position",)


class TeamRuleInline(RuleInline):
    fk_name = "team"
    verbose_name = "default rule"
    verbose_name_plural = "default rules (every seat inherits them unless it has a rule of the same kind)"


class SeatRuleInline(RuleInline):
    fk_name = "seat"


class RuleAuditMixin(admin.ModelAdmin):
    """Logs rule edits made in the inline (who, before → after) inside the admin's own transaction."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not Rule:
            return super().save_formset(request, form, formset, change)
        existing = [f.instance.pk for f in formset.initial_forms if f.instance.pk]
        before = {rule.pk: str(rule) for rule in Rule.objects.filter(pk__in=existing)}
        super().save_formset(request, form, formset, change)
        changes: list[tuple[str | None, str | None]] = [(None, str(rule)) for rule in formset.new_objects]
        changes += [(before.get(rule.pk), str(rule)) for rule, _ in formset.changed_objects]
        changes += [(str(rule), None) for rule in formset.deleted_objects]
        changes = [(b, a) for b, a in changes if b != a]
        if changes:
            by = request.user.get_username()
            services.rules_changed_record(owner=form.instance, changes=changes, by=by)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DeviceInline(ReadOnlyInline):
    model = Device
    fields = readonly_fields = (
        "hostname",
        "platform",
        "os_version",
        "client_version",
        "claude_version",
        "last_ip",
        "last_seen_at",
    )


class SeatAccountForm(forms.ModelForm):
    account_id = forms.TypedChoiceField(label="Claude account", coerce=int)

    class Meta:
        model = SeatAccount
        fields = ("account_id", "since", "until")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Through the accounts app's selector, read per form so a new account is offered at once.
        from accounts.reports import account_choices

        cast(forms.TypedChoiceField, self.fields["account_id"]).choices = account_choices()


class SeatAccountFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        periods = sorted(
            (form.cleaned_data["since"], form.cleaned_data.get("until"))
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("since")
        )
        for (_, until), (next_since, _) in pairwise(periods):
            if until is None or until > next_since:
                raise forms.ValidationError("A seat uses one account at a time: two periods overlap.")


class SeatAccountInline(admin.TabularInline):
    """Which shared account the seat used when: the account page's "seats that used it most" reads these."""

    model = SeatAccount
    form = SeatAccountForm
    formset = SeatAccountFormSet
    extra = 0
    verbose_name = "Claude account period"


class TokenInline(ReadOnlyInline):
    model = HookToken
    fields = readonly_fields = ("id", "device", "created_at", "last_used_at", "revoked_at")
    verbose_name = "hook token"


class ListedSeat(Protocol):
    """A seat on the changelist page, carrying the overview the page loaded for it."""

    overview: selectors.SeatOverview


class OverviewChangeList(ChangeList):
    """Loads today's usage and credit balances for the whole page in a few queries."""

    def get_results(self, request):
        super().get_results(request)
        overviews = selectors.seats_overview(list(self.result_list), now=timezone.now())
        for seat in self.result_list:
            seat.overview = overviews[seat.pk]


@admin.register(Seat)
class SeatAdmin(RuleAuditMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "status_badge", "usage_today", "credits", "last_seen_at")
    list_filter = ("status",)
    search_fields = ("name", "slug", "email")
    list_select_related = ("team",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("status", "status_changed_at", "status_changed_by", "last_seen_at", "recent_usage")
    fieldsets = (
        (None, {"fields": ("team", "name", "slug", "email")}),
        ("Status", {"fields": ("status", "status_changed_at", "status_changed_by", "last_seen_at")}),
        ("Recent usage", {"fields": ("recent_usage",)}),
    )
    inlines = (SeatRuleInline, SeatAccountInline, DeviceInline, TokenInline)
    actions = ("pause", "resume", "kill", "reinstate", "issue_install_codes")

    def get_changelist(self, request, **kwargs):
        return OverviewChangeList

    @admin.display(description="status", ordering="status")
    def status_badge(self, seat: Seat):
        return format_html(
            '<b style="color:{}">{}</b>',
            STATUS_COLOURS.get(seat.status, "inherit"),
            seat.get_status_display(),
        )

    @admin.display(description="prompts today")
    def usage_today(self, seat: ListedSeat):
        today = seat.overview.today
        if not today:
            return "—"
        return ", ".join(f"{family} {count}" for family, count in sorted(today.items()))

    @admin.display(description="credits left")
    def credits(self, seat: ListedSeat):
        overview = seat.overview
        if overview.credit_budget is None:
            return "no budget"
        return f"{overview.credit_balance} / {overview.credit_budget}"

    @admin.display(description="last 20 counted turns")
    def recent_usage(self, seat: Seat):
        events = UsageEvent.objects.filter(seat=seat).order_by("-occurred_at")[:RECENT_USAGE_ROWS]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((f"{e.occurred_at:%Y-%m-%d %H:%M:%S %Z}", e.family, e.model_raw, e.credit_cost) for e in events),
        )
        if not rows:
            return "No turns counted yet."
        return format_html(
            "<table><tr><th>when</th><th>family</th><th>model</th><th>credits</th></tr>{}</table>", rows
        )

    def has_change_seat_status_permission(self, request):
        return request.user.has_perm("limiter.change_seat_status")

    def has_issue_install_code_permission(self, request):
        return request.user.has_perm("limiter.issue_install_code")

    def _set_status(
        self, request, queryset: QuerySet[Seat], status: str, only_from: tuple[str, ...], verb: str
    ):
        changed = 0
        for seat in queryset.filter(status__in=only_from):
            changed += services.seat_set_status(seat=seat, status=status, by=request.user.get_username())
        skipped = queryset.count() - changed
        self.message_user(request, f"{verb} {changed} seat(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} seat(s) were not in a state to be {verb.lower()}.", messages.WARNING
            )

    @admin.action(description="Pause selected seats", permissions=["change_seat_status"])
    def pause(self, request, queryset):
        self._set_status(request, queryset, Seat.PAUSED, (Seat.ACTIVE,), "Paused")

    @admin.action(description="Resume selected paused seats", permissions=["change_seat_status"])
    def resume(self, request, queryset):
        self._set_status(request, queryset, Seat.ACTIVE, (Seat.PAUSED,), "Resumed")

    @admin.action(description="Kill selected seats (block and log out)", permissions=["change_seat_status"])
    def kill(self, request, queryset):
        self._set_status(request, queryset, Seat.KILLED, (Seat.ACTIVE, Seat.PAUSED), "Killed")

    @admin.action(description="Reinstate selected killed seats", permissions=["change_seat_status"])
    def reinstate(self, request, queryset):
        self._set_status(request, queryset, Seat.ACTIVE, (Seat.KILLED,), "Reinstated")

    @admin.action(description="Issue a new install code", permissions=["issue_install_code"])
    def issue_install_codes(self, request, queryset):
        if not self.has_issue_install_code_permission(request):
            raise PermissionDenied
        issued = []
        for seat in queryset.select_related("team"):
            code = services.install_code_issue(seat=seat, by=request.user.get_username())
            issued.append((seat, code, install_command(server_url(request), code)))
        context = {
            **self.admin_site.each_context(request),
            "title": "Install codes",
            "issued": issued,
            "opts": self.model._meta,
        }
        # Only the digest is stored: this page is the one time the codes can be seen.
        response = TemplateResponse(request, "admin/limiter/seat/install_codes.html", context)
        response["Cache-Control"] = "no-store"
        return response


@admin.register(Team)
class TeamAdmin(RuleAuditMixin, admin.ModelAdmin):
    list_display = ("name", "timezone", "credit_weights", "offline_grace_minutes")
    inlines = (TeamRuleInline,)
    fieldsets = (
        (None, {"fields": ("name", "timezone")}),
        (
            "Credits and models",
            {"fields": ("credit_weights", "extra_families", "model_aliases", "unknown_model_policy")},
        ),
        (
            "Clients and retention",
            {
                "fields": (
                    "offline_grace_minutes",
                    "hold_ttl_seconds",
                    "install_code_ttl_hours",
                    "event_retention_days",
                )
            },
        ),
    )

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not Team.objects.exists()

    def save_model(self, request, obj, form, change):
        fields = [name for name in form.changed_data if name in form.fields] if change else []
        before = Team.objects.filter(pk=obj.pk).values(*fields).first() if fields else None
        super().save_model(request, obj, form, change)
        if before:
            changes = {name: (before[name], getattr(obj, name)) for name in fields}
            services.team_settings_changed_record(changes=changes, by=request.user.get_username())
        if change and "timezone" in form.changed_data:
            # Counters are per local day: a new zone regroups them (checks read the rows meanwhile).
            counters.rebuild(obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HookToken)
class HookTokenAdmin(admin.ModelAdmin):
    list_display = ("id", "seat", "device", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    list_select_related = ("seat", "device")
    fields = readonly_fields = ("seat", "device", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            services.token_revoke(token=token, by=request.user.get_username())
        self.message_user(request, "Revoked. Those machines need a new install code.", messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(UsageEvent)
class UsageEventAdmin(ReadOnlyAdmin):
    list_display = (
        "occurred_at",
        "seat",
        "family",
        "model_raw",
        "credit_cost",
        "input_tokens",
        "output_tokens",
    )
    list_filter = ("family", "source")
    list_select_related = ("seat",)
    search_fields = ("seat__slug", "model_raw", "session_id")
    date_hierarchy = "occurred_at"


@admin.register(SessionEvent)
class SessionEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "seat", "kind", "family", "project_dir", "reason")
    list_filter = ("kind", "family")
    list_select_related = ("seat",)
    search_fields = ("seat__slug", "session_id", "project_dir")
    date_hierarchy = "created_at"

"""Governor's admin site: the dashboard as its index, its own pages, and a navigation a team lead can use.

Installed through `GovernorAdminConfig.default_site`, so `admin.site` is this site for every app's
`@admin.register`. Navigation: Governor's pages first in the order they are used, then the raw records,
then every sign-in internal under one "Sign-in" section.
"""

from django.contrib import admin
from django.urls import path, reverse

from . import pages

# (app_label, model_name) in the order a team lead reaches for them; pages are ("page", url name).
GOVERNOR_ORDER = [
    ("page", "dashboard"),
    ("limiter", "seat"),
    ("accounts", "claudeaccount"),
    ("alerts", "*"),
    ("page", "trends"),
    ("page", "limit-hits"),
    ("limiter", "team"),
    ("accounts", "accountsettings"),
]
SIGN_IN_APPS = {"auth", "account", "socialaccount"}
PAGE_NAMES = {"dashboard": "Dashboard", "trends": "Trends", "limit-hits": "Limit hits"}


class GovernorAdminSite(admin.AdminSite):
    site_header = site_title = "Claude Governor"
    index_title = "Dashboard"

    def index(self, request, extra_context=None):
        return pages.dashboard(request, self)

    def get_urls(self):
        own = [
            path("trends/", self.admin_view(pages.trends), name="trends"),
            path("trends.csv", self.admin_view(pages.trends_csv), name="trends-csv"),
            path("limit-hits/", self.admin_view(pages.limit_hits), name="limit-hits"),
            path("seat/<uuid:seat_id>/", self.admin_view(pages.seat_page), name="seat-page"),
            path("seat/<uuid:seat_id>/card/", self.admin_view(pages.seat_card), name="seat-card"),
            path("account/<int:account_id>/", self.admin_view(pages.account_page), name="account-page"),
        ]
        return own + super().get_urls()

    def each_context(self, request):
        context = super().each_context(request)
        context["team_tz"] = pages.team_zone_name()
        return context

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        models = {(app["app_label"], m["object_name"].lower()): m for app in apps for m in app["models"]}
        governor = []
        for app_label_, name in GOVERNOR_ORDER:
            if app_label_ == "page":
                governor.append(self._page_entry(name))
            elif name == "*":
                governor += [m for (label, _), m in models.items() if label == app_label_]
            elif (app_label_, name) in models:
                governor.append(models[(app_label_, name)])
        used = {id(m) for m in governor}
        records = [m for app in apps if app["app_label"] not in SIGN_IN_APPS for m in app["models"]]
        sign_in = [m for app in apps if app["app_label"] in SIGN_IN_APPS for m in app["models"]]
        sections = [
            ("governor", "Governor", governor),
            ("records", "Records", [m for m in records if id(m) not in used]),
            ("signin", "Sign-in", sign_in),
        ]
        index = reverse("admin:index", current_app=self.name)
        return [
            {"name": name, "app_label": label, "app_url": index, "has_module_perms": True, "models": entries}
            for label, name, entries in sections
            if entries
        ]

    def _page_entry(self, name: str) -> dict:
        url = reverse("admin:index" if name == "dashboard" else f"admin:{name}", current_app=self.name)
        title = PAGE_NAMES[name]
        return {
            "name": title,
            "object_name": title,
            "admin_url": url,
            "add_url": None,
            "view_only": True,
            "perms": {"view": True},
        }

from django.contrib.admin.apps import AdminConfig


class GovernorAdminConfig(AdminConfig):
    """django.contrib.admin with Governor's site (dashboard index, own pages, navigation) as `admin.site`."""

    default_site = "monitoring.admin_site.GovernorAdminSite"

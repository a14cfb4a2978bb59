"""The payments app's place in the tenant dashboard's navigation (the page itself is for owners)."""

DASHBOARD_NAV = [("Payments", "payments:settings")]

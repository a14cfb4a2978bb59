"""The onboarding app's places in the tenant dashboard's navigation."""

DASHBOARD_NAV = [("Set up", "onboarding:setup"), ("Security", "onboarding:security")]

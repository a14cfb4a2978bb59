"""Dashboard hook: the API keys page in the tenant nav (the page itself refuses staff with 403)."""

DASHBOARD_NAV = [("API keys", "apikeys:keys")]

"""Dashboard hooks: the delivery log and the member's own notification choices in the tenant nav."""

DASHBOARD_NAV = [
    ("Notifications", "notifications:log"),
    ("Webhooks", "notifications:webhooks"),
    ("My notifications", "notifications:preferences"),
]

"""Idempotent demo data for tenants: one account, four tenants, and a login for each.

Apps add their own demo content in ``<app>/demo.py: seed(tenants: dict[str, Tenant], users: dict)``;
``manage.py seed_demo`` runs them all. Every step is get-or-create so a second run changes nothing.
"""

from django.db import transaction

from tenants.models import Account, Membership, Role, Tenant, User

DEMO_PASSWORD = "virtualq-demo"

DEMO_TENANTS = [
    # key, slug, name, time zone, currency, colour, login
    ("creator", "ava-sings", "Ava Sings", "America/New_York", "USD", "#c2255c", "creator@demo.virtualq.test"),
    ("shop", "corner-bakery", "Corner Bakery", "Europe/Berlin", "EUR", "#c2410c", "shop@demo.virtualq.test"),
    ("promoter", "nightowl-live", "Night Owl Live", "Europe/London", "GBP", "#5f3dc4", "promoter@demo.virtualq.test"),  # noqa: E501
    ("helpdesk", "campus-help", "Campus Help Desk", "Asia/Kolkata", "INR", "#0b7285", "helpdesk@demo.virtualq.test"),  # noqa: E501
]  # fmt: skip

OPERATOR_EMAIL = "admin@demo.virtualq.test"


def seed() -> tuple[dict[str, Tenant], dict[str, User]]:
    with transaction.atomic():
        account, _ = Account.objects.get_or_create(
            name="VirtualQ Demo", defaults={"billing_email": "billing@demo.virtualq.test"}
        )
        tenants: dict[str, Tenant] = {}
        users: dict[str, User] = {}
        for key, slug, name, zone, currency, colour, email in DEMO_TENANTS:
            tenant, _ = Tenant.objects.get_or_create(
                slug=slug,
                defaults={
                    "account": account,
                    "name": name,
                    "time_zone": zone,
                    "currency": currency,
                    "brand_colour": colour,
                },
            )
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name + " (owner)")
            Membership.objects.get_or_create(user=user, tenant=tenant, defaults={"role": Role.OWNER})
            tenants[key] = tenant
            users[key] = user
        staff = User.objects.filter(email="staff@demo.virtualq.test").first()
        if staff is None:
            staff = User.objects.create_user(
                email="staff@demo.virtualq.test", password=DEMO_PASSWORD, name="Sam Staff"
            )
        for key in ("shop", "helpdesk"):
            Membership.objects.get_or_create(user=staff, tenant=tenants[key], defaults={"role": Role.STAFF})
        users["staff"] = staff
        if not User.objects.filter(email=OPERATOR_EMAIL).exists():
            User.objects.create_superuser(email=OPERATOR_EMAIL, password=DEMO_PASSWORD, name="Operator")
        users["operator"] = User.objects.get(email=OPERATOR_EMAIL)
    return tenants, users


def logins() -> list[tuple[str, str, str]]:
    rows = [
        (email, DEMO_PASSWORD, f"owner of /{slug}/") for _k, slug, _n, _z, _c, _col, email in DEMO_TENANTS
    ]
    rows.append(("staff@demo.virtualq.test", DEMO_PASSWORD, "staff at corner-bakery and campus-help"))
    rows.append((OPERATOR_EMAIL, DEMO_PASSWORD, "operator: /admin/"))
    return rows

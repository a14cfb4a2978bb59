"""People and tenancy: User (email login), Account (billing) → Tenant, Membership (role), Customer."""

import functools
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TenantManager, TimeStamped

# Top-level URL segments a tenant slug may not take, because /<tenant-slug>/ shares the root.
RESERVED_SLUGS = {
    "admin", "accounts", "api", "dashboard", "healthz", "readyz", "media", "static", "status", "ws",
    "events", "e", "q", "help", "offers", "checkout", "tickets", "waiting", "unsubscribe", "login",
    "logout", "signup", "waitlist", "about", "www", "start", "new", "create", "onboarding", "support",
    "billing", "settings", "account", "register", "app", "docs", "mail", "blog", "payments",
}  # fmt: skip


# The languages VirtualQ is translated into (DESIGN.md: en, de, es).
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("es", "Español")]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(zone)s is not an IANA time zone (for example Europe/Berlin).") % {"zone": repr(value)}
        )


@functools.cache
def url_prefixes() -> frozenset[str]:
    """The first path segment of every fixed route (``accounts``, ``dashboard``, ``status`` …): a tenant
    at /<slug>/ with one of these names would be shadowed by them. Read from the URLconf, so a new app's
    prefix is refused without anyone remembering to list it."""
    from django.urls import URLResolver, get_resolver

    found: set[str] = set()

    def walk(patterns) -> None:
        for pattern in patterns:
            route = str(pattern.pattern).lstrip("^")
            if route.startswith("<") or route.startswith("("):
                continue  # the tenant's own routes
            head = route.split("/", 1)[0]
            if head:
                found.add(head.lower())
            elif isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)

    walk(get_resolver().url_patterns)
    return frozenset(found)


def validate_tenant_slug(value: str) -> None:
    if value.lower() in RESERVED_SLUGS or value.lower() in url_prefixes():
        raise ValidationError(_("%(slug)s is reserved; choose another address.") % {"slug": repr(value)})


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("Users need an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # The language chosen with the switcher while signed in ("" = not chosen: the tenant's or browser's).
    language = models.CharField(max_length=8, choices=LANGUAGES, blank=True, default="")
    is_staff = models.BooleanField(default=False, help_text=_("Can log into the Django admin (operators)."))
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return (self.name or self.email).split(" ")[0]


class Account(TimeStamped):
    """The billing entity; one account can own several tenants."""

    name = models.CharField(max_length=200)
    billing_email = models.EmailField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tenant(TimeStamped):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="tenants")
    slug = models.SlugField(max_length=60, unique=True, validators=[validate_tenant_slug])
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    currency = models.CharField(max_length=3, default="USD")
    language = models.CharField(
        max_length=8, choices=LANGUAGES, default="en", help_text=_("Language of the public pages and emails.")
    )
    require_two_factor = models.BooleanField(
        default=False, help_text=_("Members must set up two-factor authentication before the dashboard.")
    )
    brand_colour = models.CharField(
        max_length=7, default="#3b5bdb", help_text=_("Hex colour used on the tenant's public pages.")
    )
    brand_intro = models.TextField(
        max_length=500, blank=True, help_text="A short introduction shown on the tenant's public page."
    )
    # 0 = no logo; bumped on every logo change so public pages ask for the new file (branding.TenantLogo).
    brand_logo_version = models.PositiveIntegerField(default=0)
    settings = models.JSONField(default=dict, blank=True)
    is_public = models.BooleanField(default=True, help_text=_("Listed on the VirtualQ home page."))

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(brand_colour__regex=r"^#[0-9a-fA-F]{6}$"), name="tenant_brand_colour_hex"
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="tenant_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    STAFF = "staff", _("Staff")


ROLE_RANK = {Role.STAFF: 1, Role.MANAGER: 2, Role.OWNER: 3}


class Membership(TimeStamped):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)

    objects = TenantManager()

    class Meta:
        ordering = ["tenant__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_user_tenant_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.tenant} ({self.get_role_display()})"

    def has_role(self, minimum: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(minimum)]


class Customer(TimeStamped):
    """A member of the public known to one tenant (by email when given)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="customers")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    social_handle = models.CharField(max_length=100, blank=True)
    location = models.CharField(max_length=200, blank=True)
    email_consent = models.BooleanField(default=False)
    # The language the customer last used with this tenant (submitting, ordering, switching); their emails
    # and texts are written in it ("" = unknown: the tenant's default).
    language = models.CharField(max_length=8, choices=LANGUAGES, blank=True, default="")
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers")

    objects = TenantManager()

    class Meta:
        ordering = ["tenant", "email"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                Lower("email"),
                condition=~models.Q(email=""),
                name="customer_tenant_email_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name or self.email or _("Customer %(number)s") % {"number": self.pk}

"""One settings module, driven by environment variables (see README "Configuration").

With DATABASE_URL / REDIS_URL unset, embedded PostgreSQL and Redis are started under the data folder
(see config.embedded). There is no SQLite anywhere.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url

from config.beat import BEAT_SCHEDULE
from config.embedded import data_dir, service_env
from config.env import env_bool, env_int, env_list, env_str
from config.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = data_dir()

DEBUG = env_bool("DJANGO_DEBUG", False)


def _secret_key() -> str:
    key = env_str("DJANGO_SECRET_KEY")
    if key:
        return key
    # Local runs without a configured key get a random one kept in the data folder, so sessions and
    # signed links survive restarts. Production sets DJANGO_SECRET_KEY.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Production hardening, switched on together by DJANGO_SECURE=1 behind TLS.
SECURE = env_bool("DJANGO_SECURE", False)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE and env_bool("DJANGO_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000) if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE and env_bool("DJANGO_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp) on every response, the admin included: scripts and styles only
# from our own static files (no inline <script>, no style= attributes, no eval), websockets and fetches
# only to our own origin ('self' covers ws:/wss: to the same host). A view that needs a third-party
# script widens the policy for itself alone with a decorator from core.csp (e.g. allow_stripe).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# The project's own apps (the folders at the top of the checkout) are listed here once: core.registry
# mounts their URLs, websocket routes, home-page sections and demo data from this order.
INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "csp",
    "jsonschemaform",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "ninja",
    "axes",
    "core",
    "tenants",
    "onboarding",
    "queues",
    "support",
    "ticketing",
    "waitingroom",
    "waitlists",
    "notifications",
    "team",
    "branding",
    "privacy",
    "api",
    "payments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Right after security so every response carries the policy, static files and error pages included.
    "csp.middleware.CSPMiddleware",
    # Compresses last on the way out; never a response with a CSRF token or other secret (BREACH): see
    # core/compression.py for which responses and why.
    "core.compression.SafeGZipMiddleware",
    "core.middleware.KnownMethodsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RejectNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The visitor's language (core.i18n: cookie > saved language > tenant default > Accept-Language).
    "core.i18n.VisitorLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "api.middleware.ApiMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.DomainErrorMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.memberships",
            ],
        },
    },
]

# --- services -------------------------------------------------------------------------------------
_services = service_env()
DATABASE_URL = _services["DATABASE_URL"]
REDIS_URL = _services["REDIS_URL"]
_test_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _test_worker.startswith("gw") and _test_worker[2:].isdigit():
    # Parallel test workers share one Redis server: each (and every process it starts, which inherits
    # the variable) gets a database of its own, so one worker's cache.clear() (FLUSHDB) never empties
    # another worker's rate-limit counters mid-test.
    _redis = urlsplit(REDIS_URL)
    REDIS_URL = urlunsplit(_redis._replace(path=f"/{1 + int(_test_worker[2:]) % 15}"))

_database = dj_database_url.parse(DATABASE_URL)
_database["ENGINE"] = "django.db.backends.postgresql"
_pool_max = env_int("DB_POOL_MAX_SIZE", 0)
if _pool_max > 0:
    # A bounded pool per process: under load requests queue for a connection instead of opening more
    # than the server can take. Incompatible with persistent connections (CONN_MAX_AGE).
    _database["OPTIONS"] = {
        "pool": {
            "min_size": 1,
            "max_size": _pool_max,
            "timeout": env_int("DB_POOL_TIMEOUT", 30),
        }
    }
    _database["CONN_MAX_AGE"] = 0
else:
    _database["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 0)
    _database["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "vq",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# Per-host options go to redis-py's connection pool. redis-py 8 defaults would break the layer: a 5 s
# read timeout equal to channels_redis's 5 s BZPOPMIN (an idle consumer's receive times out client-side,
# the consumer dies and an idle page loses its socket every ~5 s), and a pool of 100 connections that
# raises MaxConnectionsError (it does not wait) once ~100 of 2 000 watchers join/leave at once.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_URL,
                    "socket_timeout": 15,
                    "socket_connect_timeout": 5,
                    "max_connections": env_int("CHANNEL_LAYER_MAX_CONNECTIONS", 4000),
                }
            ],
            "prefix": "vq:channels",
            "capacity": 1000,
            "expiry": 30,
        },
    }
}

# --- Celery ---------------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 120)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 100)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers unacknowledged tasks after the visibility timeout; keep it above the time limit.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"

# --- auth -----------------------------------------------------------------------------------------
# Accounts are django-allauth's (sign-up with email verification, login, logout, password reset, change
# of email with re-verification, TOTP two-factor with recovery codes). Users log in with their email.
AUTH_USER_MODEL = "tenants.User"
AUTHENTICATION_BACKENDS = [
    # First: django-axes refuses a locked-out account or address before any password is checked.
    "core.abuse.AxesBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if env_bool("VQ_FAST_PASSWORD_HASHER", False):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

ACCOUNT_ADAPTER = "onboarding.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_SIGNUP_REDIRECT_URL = "onboarding:start"
ACCOUNT_SIGNUP_FORM_CLASS = "onboarding.forms.SignupDetailsForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Nobody reaches a dashboard before the address is proven; the link confirms by POST (never on GET).
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
# One address per person; a change is verified before it replaces the old one.
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[VirtualQ] "
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SIGNUPS_OPEN = env_bool("ACCOUNT_SIGNUPS_OPEN", True)
# Password resets: limited per client address and per account (allauth's limiter, keyed on our client
# address through onboarding.adapter). Format: allauth's "<count>/<period><unit>/<ip|key>", comma-joined.
ACCOUNT_RATE_LIMITS = {"reset_password": env_str("RATE_LIMIT_PASSWORD_RESET", "10/h/ip,3/h/key")}

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failed logins for one account (from anywhere)
# or from one client address (to any account), logins are refused for LOGIN_LOCKOUT_MINUTES with a page
# that says so. Operators unlock in the admin (Axes → Access attempts: delete the rows) or with
# `manage.py axes_reset_username EMAIL` / `axes_reset_ip ADDRESS`.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "login"  # allauth's login form
AXES_USERNAME_CALLABLE = "core.abuse.axes_username"
AXES_CLIENT_IP_CALLABLE = "core.ratelimit.axes_client_address"
AXES_LOCKOUT_CALLABLE = "core.abuse.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "VirtualQ"

# --- i18n / time ----------------------------------------------------------------------------------
# English is the source language; each app keeps its catalogs in <app>/locale/, the project templates
# and config/ in locale/ at the root. Catalogs (.po) are compiled to .mo by `manage.py compile_catalogs`
# (babel, pure Python) during `make install/run/test`; the .mo files are not committed.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = SECURE
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static and uploads ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "core.storage.StaticStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024

# --- email and other channels ---------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(DATA_DIR / "emails"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "VirtualQ <no-reply@virtualq.local>")
SMS_BACKEND = env_str("SMS_BACKEND", "notifications.sms.ConsoleSmsBackend")

# --- rate limits ----------------------------------------------------------------------------------
# "<count>/<seconds>" per client address; enforced through the cache (a limiter, not a lock).
RATE_LIMIT_LOOKUPS = env_str("RATE_LIMIT_LOOKUPS", "30/60")
# REST API: per API key (or signed-in member), and per client address on the public endpoints.
API_RATE_LIMIT = env_str("API_RATE_LIMIT", "600/60")
API_PUBLIC_RATE_LIMIT = env_str("API_PUBLIC_RATE_LIMIT", "60/60")

# --- payments (Stripe) ----------------------------------------------------------------------------
# A tenant's own keys (dashboard → Payments, stored encrypted) win; these are the deployment's defaults.
# With no keys at all, checkout offers the built-in test card / pay at the door and tips use the test card.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com").rstrip("/")
STRIPE_JS_URL = env_str("STRIPE_JS_URL", "https://js.stripe.com/v3/")
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
# Key material for encrypting tenants' payment secrets at rest (falls back to SECRET_KEY).
PAYMENTS_ENCRYPTION_KEY = env_str("PAYMENTS_ENCRYPTION_KEY")
PAYMENTS_ENCRYPTION_OLD_KEYS = env_list("PAYMENTS_ENCRYPTION_OLD_KEYS", [])
# Public submissions (requests, help-desk tickets, customers' comments, waitlist joins): per client address
# and per email address.
RATE_LIMIT_SUBMISSIONS = env_str("RATE_LIMIT_SUBMISSIONS", "10/600")
RATE_LIMIT_SUBMISSIONS_PER_EMAIL = env_str("RATE_LIMIT_SUBMISSIONS_PER_EMAIL", "5/600")
# How many spaces (tenants) one person may own; creating one more is refused with a clear message.
MAX_SPACES_PER_USER = env_int("MAX_SPACES_PER_USER", 10)
# Proxies whose X-Forwarded-For is believed (addresses or CIDR networks, comma-separated), e.g. the load
# balancer's. Empty: the header is ignored and the connection's address is the client.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])

# Test-only switch for the concurrency tests that prove the inventory locks matter. Never set it.
VQ_DISABLE_INVENTORY_PROTECTION = False

LOGGING = logging_config(env_str("LOG_LEVEL", "INFO").upper(), env_str("LOG_FORMAT", "json"))

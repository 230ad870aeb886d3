"""OpenIOP settings: one env-driven module.

Defaults give a working embedded deployment (SQLite file under ./var). Production sets
OPENIOP_ENV=production, OPENIOP_SECRET_KEY, OPENIOP_ALLOWED_HOSTS and DATABASE_URL.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from openiop.core.logs import JSON_RESERVED_ATTRS

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OPENIOP_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


ENVIRONMENT = env_str("OPENIOP_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"
DEBUG = env_bool("OPENIOP_DEBUG", not PRODUCTION)
# The development key only ever protects a local demo; production refuses to start without one.
SECRET_KEY = env_str(
    "OPENIOP_SECRET_KEY", "" if PRODUCTION else "dev-only-insecure-key-" + "x" * 40
)
if PRODUCTION and len(SECRET_KEY) < 50:
    raise RuntimeError("OPENIOP_SECRET_KEY must be set (50+ characters) in production")
ALLOWED_HOSTS = env_list(
    "OPENIOP_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    # django-ninja's own Swagger UI files and template: /api/v1/docs loads them from this site
    # (the CSP allows no CDN), not from the CDN ninja uses when it is not an installed app.
    "ninja",
    "openiop.core",
    "openiop.home",
    "openiop.audit",
    "openiop.accounts",
    "openiop.programs",
    "openiop.participants",
    "openiop.consent",
    "openiop.treatment",
    "openiop.groupwork",
    "openiop.calendars",
    "openiop.scheduling",
    "openiop.measures",
    "openiop.safety",
    "openiop.medical",
    "openiop.wording",
    "openiop.notifications",
    "openiop.portal",
    "openiop.demo",
    "openiop.operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (hashed, compressed) before anything that needs a session or a login.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "openiop.core.middleware.RequestIdMiddleware",
    # Outside the session: a session save that failed with the database is a 503 too.
    "openiop.core.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "openiop.portal.middleware.ParticipantLanguageMiddleware",
    "openiop.accounts.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "openiop.core.middleware.LoginRequiredMiddleware",
    "openiop.accounts.middleware.SecondFactorRequiredMiddleware",
    "openiop.accounts.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "openiop.urls"
WSGI_APPLICATION = "openiop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "openiop.home.context_processors.navigation",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'openiop.sqlite3'}"), conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections, checked before reuse (docs/operations.md, "PostgreSQL
    # connections"): a request no longer pays for a new connection, and a connection broken by
    # a database restart is replaced instead of failing the request.
    DATABASES["default"]["CONN_MAX_AGE"] = int(env_str("OPENIOP_DB_CONN_MAX_AGE", "60"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the task worker read while the web process writes; IMMEDIATE transactions take
    # the write lock up front so the audit chain head is never read stale.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username or address before a password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# AUTH-02: Argon2id first; a login with any other (legacy) hash re-hashes with Argon2id.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Long passphrases are welcome (NIST SP 800-63B: accept at least 64 characters).
    {"NAME": "openiop.accounts.passwords.MaximumLengthValidator", "OPTIONS": {"max_length": 256}},
]

# AUTH-03: lock an account and, separately, an address after repeated failures.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "openiop.accounts.views.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # our own audit log records logins
AXES_VERBOSE = False  # usernames can be personal data: keep them out of the logs (AU-04)

# AUTH-05: idle and absolute session limits (enforced by SessionLifetimeMiddleware).
OPENIOP_IDLE_TIMEOUT = timedelta(minutes=15)
OPENIOP_ABSOLUTE_TIMEOUT = timedelta(hours=12)
OPENIOP_BREAK_GLASS_DURATION = timedelta(minutes=60)
OTP_TOTP_ISSUER = "OpenIOP"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
# The participant portal speaks English and Spanish (docs/portal.md, "Languages"). No
# LocaleMiddleware: the browser's Accept-Language never chooses; the participant's saved
# choice does (openiop.portal.middleware), and staff pages stay in English.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "openiop" / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("OPENIOP_STATIC_ROOT", str(VAR_DIR / "static")))
# Production serves `openiop collectstatic`'s output through WhiteNoise: hashed names (cached
# for a year) and gzip/brotli copies. Development and tests read the apps' static folders
# directly (nothing collected).
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "openiop.core.storage.StaticStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 60 * 60  # absolute cap, matched by OPENIOP_ABSOLUTE_TIMEOUT
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("OPENIOP_SSL_REDIRECT", True)
    # Load-balancer probes may ask the web node directly over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = 63072000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # The reverse proxy terminates TLS and says so in this header; trust it only when every
    # request comes through the proxy (docs/operations.md). Empty: trust no header.
    _proxy_header = env_str("OPENIOP_PROXY_SSL_HEADER", "X-Forwarded-Proto").strip()
    if _proxy_header:
        SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")

# Strict CSP: no inline script or style anywhere; htmx is served from our own origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# The task queue: "db" (the default: a table in the database, `openiop worker` polls it) or
# "rq" (Redis at OPENIOP_REDIS_URL; RQ workers on any number of hosts). A dotted backend path
# is accepted too.
TASK_BACKENDS = {"db": "django_tasks_db.DatabaseBackend", "rq": "django_tasks_rq.RQBackend"}
_tasks_backend = env_str("OPENIOP_TASKS_BACKEND", "db")
TASKS = {
    "default": {
        "BACKEND": TASK_BACKENDS.get(_tasks_backend, _tasks_backend),
        "QUEUES": ["default"],
    }
}
if TASKS["default"]["BACKEND"] == TASK_BACKENDS["rq"]:
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {
        "default": {
            "URL": env_str("OPENIOP_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "DEFAULT_TIMEOUT": 300,
        }
    }

# Logs carry opaque ids only (AU-04): request id, user id, path with UUIDs, never names.
# One JSON object per line in production (OPENIOP_LOG_FORMAT=json), plain text in development;
# every line carries the request id (openiop.core.logs.RequestIdFilter).
LOG_FORMAT = env_str("OPENIOP_LOG_FORMAT", "json" if PRODUCTION else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "openiop.core.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "reserved_attrs": JSON_RESERVED_ATTRS,
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("OPENIOP_LOG_LEVEL", "INFO")},
    # django.template's DEBUG lines print whole template contexts (the request with its query
    # string, the objects on the page): never, whatever OPENIOP_LOG_LEVEL says.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.template": {"level": "INFO"},
    },
}

OPENIOP_PAGE_SIZE = 50
# Portal questionnaires in the instrument files' paraphrases, under a "demo wording, not for
# clinical use" banner, when no wording pack is loaded (docs/wording-packs.md). Never in
# production: there, only instruments with a loaded pack are self-administered.
OPENIOP_DEMO_WORDING = env_bool("OPENIOP_DEMO_WORDING", DEBUG) and not PRODUCTION
# How often a staff page asks whether a new safety alert arrived (seconds).
OPENIOP_SAFETY_POLL_SECONDS = int(env_str("OPENIOP_SAFETY_POLL_SECONDS", "30"))

# Safety workflow (clinical.md section 6): an unacknowledged safety event escalates to the
# program's directors and supervisors after this long, and again each period after that.
OPENIOP_SAFETY_ESCALATE_AFTER = timedelta(minutes=30)
OPENIOP_NOTIFIER = "openiop.safety.notifiers.ConsoleNotifier"
# Queued by `openiop worker` each time it starts: sweeps that find work whose job was lost
# (a queue that was unreachable, a worker killed mid-task).
OPENIOP_WORKER_STARTUP_TASKS = [
    "openiop.safety.tasks.safety_escalate_overdue",
    "openiop.portal.alumni.alumni_end_expired",
]
# Run by every `openiop worker` process every OPENIOP_WORKER_SWEEP_SECONDS while it works
# (openiop.core.sweeps): work lost while the worker runs (a task cut off from the database) is
# done within one period. 0 turns the periodic sweep off (the start-up sweep still runs).
OPENIOP_WORKER_PERIODIC_TASKS = [
    "openiop.safety.tasks.safety_escalate_overdue",
    "openiop.portal.alumni.alumni_end_expired",
    "openiop.notifications.tasks.notifications_sweep",
]
OPENIOP_WORKER_SWEEP_SECONDS = int(env_str("OPENIOP_WORKER_SWEEP_SECONDS", "60"))

# Django's cache holds the public forms' throttles (openiop.core.throttle). Several web nodes
# must share one: set OPENIOP_CACHE_URL to a Redis URL; otherwise each process counts alone.
_cache_url = env_str("OPENIOP_CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Alumni accounts (issue 15 §4, docs/portal.md): how many days after discharge a participant
# who chose alumni keeps check-ins, the safety plan and "get help now".
OPENIOP_ALUMNI_DAYS = int(env_str("OPENIOP_ALUMNI_DAYS", "365"))

# Invitations and password reset (docs/accounts.md). Mail carries no PHI: no names, nothing
# about the program (42 CFR Part 2).
OPENIOP_INVITATION_TTL = timedelta(hours=int(env_str("OPENIOP_INVITATION_TTL_HOURS", "72")))
PASSWORD_RESET_TIMEOUT = 60 * 60  # seconds: a reset link works for one hour
EMAIL_BACKEND = env_str("OPENIOP_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("OPENIOP_FROM_EMAIL", "no-reply@localhost")
EMAIL_HOST = env_str("OPENIOP_EMAIL_HOST", "localhost")
EMAIL_PORT = int(env_str("OPENIOP_EMAIL_PORT", "25"))
EMAIL_USE_TLS = env_bool("OPENIOP_EMAIL_USE_TLS", False)

# Self sign-in by room code (docs/self-sign-in.md): the code on the room screen changes every
# this many minutes (the one before still works), opens this long before the start, and a
# participant who types this many wrong codes in ten minutes waits before trying again.
OPENIOP_ROOM_CODE_MINUTES = int(env_str("OPENIOP_ROOM_CODE_MINUTES", "2"))
OPENIOP_ROOM_CODE_EARLY_MINUTES = int(env_str("OPENIOP_ROOM_CODE_EARLY_MINUTES", "30"))
OPENIOP_ROOM_CODE_MAX_WRONG = int(env_str("OPENIOP_ROOM_CODE_MAX_WRONG", "5"))
# Reminders (docs/notifications.md). SMS through a provider adapter; texts are fixed and
# neutral (42 CFR Part 2). Email goes through EMAIL_BACKEND above.
OPENIOP_SMS_BACKEND = env_str("OPENIOP_SMS_BACKEND", "openiop.notifications.sms.ConsoleSms")
OPENIOP_SMS_FROM = env_str("OPENIOP_SMS_FROM", "")
OPENIOP_SMS_TWILIO_BASE_URL = env_str("OPENIOP_SMS_TWILIO_BASE_URL", "https://api.twilio.com")
OPENIOP_SMS_TWILIO_ACCOUNT_SID = env_str("OPENIOP_SMS_TWILIO_ACCOUNT_SID", "")
OPENIOP_SMS_TWILIO_AUTH_TOKEN = env_str("OPENIOP_SMS_TWILIO_AUTH_TOKEN", "")
OPENIOP_PORTAL_URL = env_str("OPENIOP_PORTAL_URL", "http://localhost:8000/me/")
OPENIOP_NOTIFY_MAX_ATTEMPTS = int(env_str("OPENIOP_NOTIFY_MAX_ATTEMPTS", "5"))
OPENIOP_NOTIFY_RETRY_SECONDS = int(env_str("OPENIOP_NOTIFY_RETRY_SECONDS", "60"))

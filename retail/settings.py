"""Aisle's settings: one module, configured by environment variables.

Every variable is listed in `.env.example`. With none set, Aisle runs on a
SQLite file with Celery in eager mode (the embedded default).
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

from retail import content_policy
from retail.storage_settings import storages as media_storage

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
# The development key is only accepted while DEBUG is on; production must set its own.
SECRET_KEY = env.str("SECRET_KEY", default="") or (
    "django-insecure-aisle-development-only" if DEBUG else ""
)
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "retail.apps.AisleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "csp",
    # Aisle's apps, in layer order (lowest first).
    "retail.apps.RetailConfig",
    "inventory.apps.InventoryConfig",
    "training.apps.TrainingConfig",
    "orders.apps.OrdersConfig",
    "clienteling.apps.ClientelingConfig",
    "returns.apps.ReturnsConfig",
    "kiosk.apps.KioskConfig",
    "insights.apps.InsightsConfig",
]

MIDDLEWARE = [
    "retail.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy header, on every answer (error pages and refusals too).
    "retail.headers.ContentPolicyMiddleware",
    "retail.guards.BadBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "retail.headers.SecurityHeadersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Kiosks reach only /kiosk/; idle sessions end (staff), ask TOTP again (HQ) or reset (kiosk).
    "retail.sessions.SessionGuardMiddleware",
    "retail.middleware.HQSecondFactorMiddleware",
    "retail.middleware.StoreContextMiddleware",
    # A view meeting the database down answers 503, never a 500 (`retail/errors.py`).
    "retail.errors.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "retail.urls"
WSGI_APPLICATION = "retail.wsgi.application"
AUTH_USER_MODEL = "retail.User"

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
                "retail.context_processors.aisle",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite by default, in WAL mode with immediate transactions and a busy timeout,
# so that polling pages and writes do not fail with "database is locked".
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'aisle.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
    )
else:
    # Persistent connections: a new PostgreSQL connection costs about 7 ms a
    # request. Health checks are on: before a request reuses a connection, Django
    # checks it (a `SELECT 1`), and opens a new one if it died, so after a PostgreSQL
    # restart (or a proxy that drops idle connections) connections recover by
    # themselves instead of failing one request per worker. A request that still meets
    # the database down answers 503 `unavailable` (`retail.errors`). Turn the checks
    # off with CONN_HEALTH_CHECKS=0 to save that round trip where connections never die.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)

# A read replica for HQ's dashboards, exports and listings (docs/scaling.md): with
# DATABASE_REPLICA_URL set, the `replica` alias exists and the reads that HQ's pages
# make inside `retail.db_router.reading_replica()` go to it; every other read, and
# every write, stays on `default` (replica lag never reaches an order, stock or a
# return). Unset, there is no alias and everything reads `default`. In tests the
# alias mirrors `default` (Django's TEST MIRROR): the same test database.
if _replica_url := env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db_url_config(_replica_url),
        "CONN_MAX_AGE": DATABASES["default"].get("CONN_MAX_AGE", 0),
        "CONN_HEALTH_CHECKS": DATABASES["default"].get("CONN_HEALTH_CHECKS", False),
        "TEST": {"MIRROR": "default"},
    }
# The alias `reading_replica()` sends reads to; empty: none (every read on `default`).
AISLE_READ_REPLICA = "replica" if "replica" in DATABASES else ""
DATABASE_ROUTERS = ["retail.db_router.ReplicaRouter"]

# PgBouncer in transaction mode (DATABASE_POOLER=pgbouncer, docs/scaling.md): each
# transaction may run on another server connection, so nothing may outlive one.
# Server-side cursors (QuerySet.iterator() outside a transaction holds one WITH HOLD)
# are off, and psycopg never prepares statements (a prepared statement lives on one
# server connection). Aisle sets nothing session-wide (only `SET LOCAL`, inside a
# transaction) and takes no session-level advisory lock; the time zone Django sets on
# connecting is one PgBouncer tracks per client. Persistent connections stay on: a
# kept connection to PgBouncer holds no server connection between transactions.
DATABASE_POOLER = env.str("DATABASE_POOLER", default="").lower()
if DATABASE_POOLER not in ("", "pgbouncer"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("DATABASE_POOLER must be empty or 'pgbouncer'.")
if DATABASE_POOLER == "pgbouncer":
    for _database in DATABASES.values():
        if _database["ENGINE"] == "django.db.backends.postgresql":
            _database["DISABLE_SERVER_SIDE_CURSORS"] = True
            _database.setdefault("OPTIONS", {})["prepare_threshold"] = None

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://aisle")}
# With a shared cache (Redis), sessions are read from it and written through to the
# database, and the signed-in staff member (with profile and home store) is kept in
# it until they change (`retail/backends.py`): two queries less on every signed-in
# request. A per-process cache (the embedded default) would let another worker keep
# a session that was logged out, or a staff member who was switched off.
AISLE_SHARED_CACHE = "redis" in CACHES["default"]["BACKEND"].lower()
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The cache is an accelerator, never a dependency (`retail/cache.py`): when Redis
    # is unreachable every read is a miss and every write is dropped, logged once a
    # minute; short timeouts keep a dead or hanging Redis cheap (CACHE_TIMEOUT
    # seconds, for connecting and for each answer), and it is used again by itself
    # when it comes back. The limits against guessing (allauth's login rate limits,
    # pickup-code guesses) keep counting in the database meanwhile.
    CACHES["default"]["BACKEND"] = "retail.cache.ResilientRedisCache"
    _cache_timeout = env.float("CACHE_TIMEOUT", default=0.3)
    CACHES["default"]["OPTIONS"] = {
        "socket_connect_timeout": _cache_timeout,
        "socket_timeout": _cache_timeout,
        **CACHES["default"].get("OPTIONS", {}),
        "fallback": "fallback",
        "fallback_prefixes": ["allauth:rl:", "aisle:pickup-guesses:"],
    }
    # Its table is made by `migrate` (retail/migrations/*_cache_fallback_table.py).
    CACHES["fallback"] = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "aisle_cache_fallback",
    }
if AISLE_SHARED_CACHE:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Auth and allauth -----------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "retail.backends.StaffModelBackend",
    "retail.backends.StaffAllauthBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "retail:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "retail.auth.AisleAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
# An added e-mail address counts only once verified: a change keeps the old address
# until the new one is confirmed (ACCOUNT_CHANGE_EMAIL), and a password reset goes
# only to a verified address (`retail.auth.VerifiedResetPasswordForm`). Changing an
# e-mail address asks for the password again; the owner is told by e-mail of every
# e-mail or password change. Accounts made by HQ (`staff_create`, the demo) start
# with their address verified.
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_FORMS = {"reset_password": "retail.auth.VerifiedResetPasswordForm"}
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reauthenticate": "10/m/user",
}
# TOTP secrets (and recovery-code seeds) are encrypted at rest (`retail.totp_crypto`)
# with a key from AISLE_TOTP_KEY (any long random string). Unset, the key is derived
# from SECRET_KEY: fine for development, but then rotating SECRET_KEY makes every
# TOTP secret unreadable, so production sets its own and keeps it.
MFA_ADAPTER = "retail.totp_crypto.AisleMFAAdapter"
AISLE_TOTP_KEY = env.str("AISLE_TOTP_KEY", default="")
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Aisle"

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# The one currency of the network; money is Decimal and sent as strings.
AISLE_CURRENCY = env.str("AISLE_CURRENCY", default="EUR")
# The countries the network serves (stores, stock locations, deliveries), as two-letter
# ISO codes: AISLE_COUNTRIES=FR,DE,NL. Empty: every country that uses AISLE_CURRENCY
# (retail/geography.py lists each currency's countries).
AISLE_COUNTRIES = env.list("AISLE_COUNTRIES", default=[])
# Insights date online orders (web, app, social) in this time zone; store and kiosk
# sales in their store's. Default: the HQ's time zone (TIME_ZONE).
AISLE_REPORTING_TIME_ZONE = env.str("AISLE_REPORTING_TIME_ZONE", default="") or TIME_ZONE
# Insights' journey window: webrooming, showrooming and cross-channel conversion look
# this many days back (or ahead) from a purchase (or a view).
AISLE_INSIGHTS_WINDOW_DAYS = env.int("AISLE_INSIGHTS_WINDOW_DAYS", default=14)
# The dashboards keep each KPI's figures in the cache until the rollups change (every
# refresh starts a new generation) or this many seconds pass; 0 computes every time.
AISLE_INSIGHTS_CACHE_SECONDS = env.int("AISLE_INSIGHTS_CACHE_SECONDS", default=600)
# seed_demo writes a year of order history (insights.demo) and rebuilds the rollups
# from it; off, it seeds today's demo only (what most tests need: a minute quicker).
AISLE_DEMO_HISTORY = env.bool("AISLE_DEMO_HISTORY", default=True)

# --- Static and media -----------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Uploaded media: local files served by Aisle (one machine), or an S3-compatible store
# (AISLE_MEDIA_STORAGE=s3 with AWS_STORAGE_BUCKET_NAME, AWS_S3_ENDPOINT_URL, …; README).
STORAGES = {
    "default": media_storage(env),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker whose broker went away reconnects for as long as it takes (Celery's
# default gives up after 100 tries and the worker exits).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Publishing never holds a request up: with the broker down a publish fails at once
# (no reconnect loop, a 0.1 s connect timeout) and the outbox leaves the entry for the
# beat's relay (`retail.outbox`). A hung broker costs one publish its socket timeout.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "max_retries": 0,
    "socket_connect_timeout": env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=0.1),
    "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=2.0),
}
# Webhooks run on their own queue with their own worker (see the README), so a slow
# receiver never holds the workers that e-mails, domain events and refreshes need.
AISLE_WEBHOOK_QUEUE = "webhooks"
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TIMEZONE = "UTC"
# Periodic work. With Redis, `celery beat` runs it; on the embedded default,
# `manage.py run_scheduler` (started by `make run`) runs the same entries eagerly.
CELERY_BEAT_SCHEDULE: dict = {
    # The outbox's relay: what a broker outage, a lost queue or a dead worker left.
    "outbox-republish": {"task": "retail.tasks.outbox_republish", "schedule": 5.0},
    "outbox-prune": {"task": "retail.tasks.outbox_prune", "schedule": 3600.0},
    # Webhook chains due again: a failed attempt's wait over, a lease run out (retail.webhooks).
    "webhooks-retry": {"task": "retail.webhooks.webhooks_retry_due", "schedule": 10.0},
    "webhooks-prune": {"task": "retail.webhooks.webhooks_prune", "schedule": 86400.0},
    # Training: reminders 30 days before a certificate expires, lapses, onboarding of
    # new starters, and the quarterly skills snapshot (each safe to run again).
    "training-certification-reminders": {
        "task": "training.tasks.certification_reminders",
        "schedule": 3600.0,
    },
    "training-certifications-lapse": {
        "task": "training.tasks.certifications_lapse",
        "schedule": 900.0,
    },
    "training-onboard-new-staff": {"task": "training.tasks.onboard_new_staff", "schedule": 3600.0},
    "training-skills-snapshot": {"task": "training.tasks.skills_snapshot", "schedule": 21600.0},
    # Clienteling: browsing past HQ's retention period goes nightly; recommendations
    # are rebuilt every six hours (never inside a request).
    "clienteling-browsing-purge": {"task": "clienteling.tasks.browsing_purge", "schedule": 86400.0},
    # The events table's monthly partitions, made two months ahead (PostgreSQL).
    "clienteling-browsing-partitions": {
        "task": "clienteling.tasks.browsing_partitions_ahead",
        "schedule": 86400.0,
    },
    "clienteling-recommendations": {
        "task": "clienteling.tasks.recommendations_rebuild",
        "schedule": 21600.0,
    },
    # Appointments that have ended give back what was set aside for them (catches up).
    "clienteling-appointments-ended": {
        "task": "clienteling.tasks.appointments_release_ended",
        "schedule": 300.0,
    },
    # Appointments: the customer's reminder the day before, inside the store's hours.
    "clienteling-appointments-remind": {
        "task": "clienteling.tasks.appointments_remind",
        "schedule": 600.0,
    },
    # Appointments of tomorrow: a task for their associate to prepare (once each).
    "clienteling-appointments-prepare": {
        "task": "clienteling.tasks.appointments_prepare",
        "schedule": 3600.0,
    },
    # Pickups: the reminder a day before the hold ends, then expiry (catches up).
    "orders-pickups-sweep": {"task": "orders.tasks.pickups_sweep", "schedule": 900.0},
    "orders-promises-watch": {"task": "orders.tasks.promises_watch", "schedule": 900.0},
    # Returns started at a kiosk and not finished at the counter that local day are
    # cancelled, freeing their units (catches up after a missed beat).
    "returns-kiosk-expire": {"task": "returns.tasks.kiosk_returns_expire", "schedule": 900.0},
    # Insights: re-compute the days and customers that domain events marked dirty.
    "insights-rollups-refresh": {"task": "insights.tasks.rollups_refresh", "schedule": 300.0},
}

# --- E-mail ---------------------------------------------------------------
# In development every e-mail is written as a file under sent-mail/ (the console
# stays readable; HQ sees each message in admin's outbound log too).
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.filebased.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "sent-mail"))
# Seconds an SMTP connection or send may take (sent by an outbox task, never in a request).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Aisle <no-reply@aisle.invalid>")

# --- REST framework: the integration API's conventions ---------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "retail.api.schema.AisleAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["retail.api.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "retail.api.permissions.HasScopes",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["retail.api.throttling.ClientRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["retail.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "retail.api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Aisle integration API",
    "DESCRIPTION": "The contract between Aisle and the online channel.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for a choice set the API uses in several places.
    "ENUM_NAME_OVERRIDES": {
        "RefundToEnum": ["original", "store_credit"],
        # A return's state kept its name when appointments brought other "state" sets.
        "StateEnum": ["requested", "awaiting_approval", "completed", "refused", "cancelled"],
    },
}

# --- Security -------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe over plain HTTP: the health endpoints answer without a redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
# Idle limits (`retail.sessions`): a staff session ends after this many seconds
# without activity (a poll from an open page is not activity); an HQ session asks
# for TOTP again after a shorter idle time; an idle kiosk returns to its start page
# in the default language with nothing of the last customer kept.
AISLE_STAFF_IDLE_SECONDS = env.int("AISLE_STAFF_IDLE_SECONDS", default=30 * 60)
AISLE_HQ_TOTP_IDLE_SECONDS = env.int("AISLE_HQ_TOTP_IDLE_SECONDS", default=10 * 60)
AISLE_KIOSK_IDLE_SECONDS = env.int("AISLE_KIOSK_IDLE_SECONDS", default=120)
# Polled fragments (`retail.polls`): the pickup queue polls every AISLE_POLL_SECONDS;
# fragments showing relative times are drawn for the start of a step of
# AISLE_POLL_TIME_STEP_SECONDS (a minute: "waiting 5 minutes"), part of their ETag.
AISLE_POLL_SECONDS = env.int("AISLE_POLL_SECONDS", default=10)
AISLE_POLL_TIME_STEP_SECONDS = env.int("AISLE_POLL_TIME_STEP_SECONDS", default=60)
# Processes serving requests (gunicorn's WEB_CONCURRENCY). With more than one and
# DEBUG off, a per-process cache would split the rate limits: `check` refuses it.
AISLE_WEB_CONCURRENCY = env.int("WEB_CONCURRENCY", default=1)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_PROXY", default=False) else None
)
X_FRAME_OPTIONS = "DENY"
# A form with a stale CSRF token gets the friendly 403 page, saying to reload.
CSRF_FAILURE_VIEW = "retail.errors.csrf_failure"

# --- Content-Security-Policy (django-csp; README "Content-Security-Policy") ---
# Only files Aisle serves may run or style a page (`retail.content_policy`); the
# browser reports violations to `/csp-report/`, which logs them (`retail.csp_report`).
# CSP_REPORT_ONLY=1 sends the same policy as `Content-Security-Policy-Report-Only`
# (the report-only phase): the browser blocks nothing and reports what it would block.
# (Not named CSP_REPORT_ONLY here: django-csp's check refuses its 3.x settings' names.)
AISLE_CSP_REPORT_ONLY = env.bool("CSP_REPORT_ONLY", default=False)
CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_REPORT_ONLY = content_policy.policies(
    report_only=AISLE_CSP_REPORT_ONLY
)
# The report endpoint logs at most this many reports a minute per process (a page
# with a violation reports it on every load), then one line saying how many it dropped.
AISLE_CSP_REPORTS_PER_MINUTE = env.int("AISLE_CSP_REPORTS_PER_MINUTE", default=30)

# --- Operations: /healthz, /readyz (anonymous) and /metrics ------------------
# `/metrics` (Prometheus) answers only `Authorization: Bearer <AISLE_METRICS_TOKEN>`;
# unset, it answers 404. With several processes (gunicorn), set
# PROMETHEUS_MULTIPROC_DIR to an empty directory shared by them (README).
AISLE_METRICS_TOKEN = env.str("AISLE_METRICS_TOKEN", default="")
DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024

# --- Logging: no personal data in logs --------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # The level sits on the handler too: Django's own loggers (django.request logs
    # every 4xx as a warning) propagate here whatever the root's level is.
    # A 403 is one line (`retail.logs.OneLinePerRefusal`): no traceback, no second line.
    "filters": {"refusals": {"()": "retail.logs.OneLinePerRefusal"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "level": LOG_LEVEL,
            "filters": ["refusals"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own console handler (DEBUG only) is replaced by Aisle's, so one
        # LOG_LEVEL rules every message in every mode.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # One line per task run is noise (failures are logged as errors).
        "celery.app.trace": {"level": "WARNING"},
    },
}

# --- Counter and kiosk limits (issue 16, kept in the database: `retail.limits`) ---
# Wrong pickup codes one device (a kiosk, a tablet session) may type in 10 minutes.
AISLE_PICKUP_DEVICE_GUESSES = env.int("AISLE_PICKUP_DEVICE_GUESSES", default=10)
# Wrong codes after which an order's pickup code locks until a manager unlocks it.
AISLE_PICKUP_CODE_MISSES = env.int("AISLE_PICKUP_CODE_MISSES", default=5)
# Per kiosk and hour: reservations, and one-time codes e-mailed to prove a profile.
AISLE_KIOSK_RESERVATIONS_PER_HOUR = env.int("AISLE_KIOSK_RESERVATIONS_PER_HOUR", default=30)
AISLE_KIOSK_CODES_PER_HOUR = env.int("AISLE_KIOSK_CODES_PER_HOUR", default=10)
# Per kiosk and ten minutes: wrong appointment codes typed at check-in.
AISLE_APPOINTMENT_DEVICE_GUESSES = env.int("AISLE_APPOINTMENT_DEVICE_GUESSES", default=10)
# Per kiosk and hour: appointments booked (by customers who proved their profile).
AISLE_KIOSK_BOOKINGS_PER_HOUR = env.int("AISLE_KIOSK_BOOKINGS_PER_HOUR", default=20)
# Per kiosk and hour: wrong one-time codes typed (reserving or starting a return).
AISLE_KIOSK_CODE_TRIES_PER_HOUR = env.int("AISLE_KIOSK_CODE_TRIES_PER_HOUR", default=30)
# Headers on every answer (`retail.headers.SecurityHeadersMiddleware`).
PERMISSIONS_POLICY = env.str(
    "PERMISSIONS_POLICY",
    default="camera=(self), microphone=(), geolocation=(), payment=(), usb=()",
)

# --- Customer data rights: retention and unsubscribe (README "Data rights") ---
# The absolute address of Aisle, for links in e-mails (the unsubscribe link).
AISLE_SITE_URL = env.str("AISLE_SITE_URL", default="http://localhost:8000")
# An unsubscribe link works this many days after its message was sent (and once).
AISLE_UNSUBSCRIBE_MAX_AGE_DAYS = env.int("AISLE_UNSUBSCRIBE_MAX_AGE_DAYS", default=365)
# Sent messages keep their body (and recipient) this many days, then only the log line.
AISLE_RETENTION_MESSAGE_DAYS = env.int("AISLE_RETENTION_MESSAGE_DAYS", default=90)
# Anonymous visitors' browsing (never linked to a customer) is kept this many days.
AISLE_RETENTION_ANONYMOUS_DAYS = env.int("AISLE_RETENTION_ANONYMOUS_DAYS", default=30)
# Customers without any activity for this many years are listed in HQ for review.
AISLE_RETENTION_INACTIVE_YEARS = env.int("AISLE_RETENTION_INACTIVE_YEARS", default=3)
# A tablet action's id and answer (`retail.once`; the answer may name a customer) are
# kept this many hours so a retry or an offline queue's replay is answered, not re-applied.
AISLE_ACTION_KEEP_HOURS = env.int("AISLE_ACTION_KEEP_HOURS", default=24)
CELERY_BEAT_SCHEDULE["retail-retention"] = {
    "task": "retail.retention.retention_daily",
    "schedule": 86400.0,
}

# Audit alerts (`/hq/audit/alerts/`): a staff member who opens more customer profiles
# than this within one hour is listed for HQ to review.
AISLE_AUDIT_VIEWS_PER_HOUR = env.int("AISLE_AUDIT_VIEWS_PER_HOUR", default=30)

# --- Bulk imports and exports (`retail.imports`, README "Imports") ------------------
# The largest file an import takes, in bytes (a larger one is refused by its size,
# before anything is read). An XLSX file may unpack to ten times this.
AISLE_IMPORT_MAX_BYTES = env.int("AISLE_IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
# The Celery queue import jobs run on: a worker of its own with a long time limit
# (README), so a 200,000-row file neither hits the default limit nor holds the workers
# that e-mails and domain events need.
AISLE_IMPORT_QUEUE = env.str("AISLE_IMPORT_QUEUE", default="imports")
# The longest an import job may run, in seconds (its outbox lease follows it).
AISLE_IMPORT_TIME_LIMIT = env.int("AISLE_IMPORT_TIME_LIMIT", default=3600)

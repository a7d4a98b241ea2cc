"""Django settings for Louzhang, read from the environment only (see README, "Configuration")."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from louzhang.env import (
    ConfigurationError,
    env_bool,
    env_float,
    env_int,
    env_int_list,
    env_list,
    env_str,
    secret_key_kept_in,
)

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("LOUZHANG_VAR_DIR") or PACKAGE_DIR.parent / "var").resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under var/."""
    given = env_str("SECRET_KEY")
    if given:
        if len(given) < 32:
            raise ConfigurationError("SECRET_KEY: must be at least 32 characters long")
        return given
    return secret_key_kept_in(VAR_DIR / "secret_key")


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
HTTPS = env_bool("LOUZHANG_HTTPS", False)

INSTALLED_APPS = [
    "louzhang.core.admin_site.LouzhangAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    # the floors of the house, bottom up (README, "Layers"; `lint-imports` checks them)
    "louzhang.core",
    "louzhang.audit",
    "louzhang.areas",
    "louzhang.accounts",
    "louzhang.worker",
    "louzhang.registry",
    "louzhang.notifications",
    "louzhang.followups",
    "louzhang.notices",
    "louzhang.breakglass",
    "louzhang.gates",
    "louzhang.checkpoints",
    "louzhang.disinfection",
    "louzhang.observation",
    "louzhang.duty",
    "louzhang.screening",
    "louzhang.tips",
    "louzhang.stats",
    "louzhang.retention",
    "louzhang.web",
    "louzhang.demo",
    "louzhang.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # early: it turns the errors of the middleware below (a bad Host …) into problem documents
    "louzhang.api.middleware.ApiProblemMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "louzhang.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "louzhang.core.middleware.RequestContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "louzhang.urls"
WSGI_APPLICATION = "louzhang.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "louzhang.notifications.context_processors.inbox",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

DEFAULT_SQLITE = VAR_DIR / "louzhang.sqlite3"
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"
try:
    _db = dj_database_url.parse(DATABASE_URL)
except ValueError as exc:
    raise ConfigurationError(f"DATABASE_URL: {exc}") from None

if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so a
    # transaction never has to upgrade a read lock (the cause of instant "database is locked");
    # the busy timeout makes a second writer wait for the first instead of failing.
    _db["OPTIONS"] = {
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 30, minimum=1),
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA temp_store=MEMORY;"
            "PRAGMA cache_size=-65536;"
        ),
    }
    # a connection per thread kept across requests: its page cache stays warm, and the
    # PRAGMAs above run once, not on every request
    _db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 600, minimum=0)
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 600, minimum=0)
    _db["CONN_HEALTH_CHECKS"] = True
else:
    raise ConfigurationError(
        f"DATABASE_URL: unsupported database {_db['ENGINE']!r}; use sqlite:/// or postgres://"
    )
DATABASES = {"default": _db}

# --- Cache ----------------------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication -------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "louzhang.accounts.backends.AccountThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env_int("LOUZHANG_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOUZHANG_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
#: reverse proxies whose X-Forwarded-For is trusted; the same client address goes to the audit
#: log and to the lock-out (so behind a proxy one guesser does not lock out everybody)
LOUZHANG_PROXY_COUNT = env_int("LOUZHANG_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "louzhang.core.middleware.client_ip"
AXES_VERBOSE = False
#: per account, from any address (`accounts.throttle`): after this many wrong passwords each
#: further try waits 2 s, 4 s, 8 s … at most the delay below; never a lock
LOUZHANG_LOGIN_ACCOUNT_FREE_FAILURES = env_int("LOUZHANG_LOGIN_ACCOUNT_FREE_FAILURES", 5, minimum=1)
LOUZHANG_LOGIN_ACCOUNT_MAX_DELAY_SECONDS = env_int("LOUZHANG_LOGIN_ACCOUNT_MAX_DELAY_SECONDS", 60,
                                                   minimum=1)

# --- Security headers -----------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("LOUZHANG_SESSION_HOURS", 12, minimum=1) * 3600
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
#: Content-Security-Policy (django-csp): scripts, styles, pictures and connections from this
#: site only, no inline script (data for scripts goes in json_script blocks), no plug-ins, never
#: framed, forms post only here. Pictures also as data:/blob: (QR codes, the camera's photo).
#: Inline styles stay allowed: ECharts' SVG renderer writes style="" attributes (blocked, its
#: charts lose their styling), and the public pages carry their CSS inline (one request on a
#: poor connection); with no script and no outside address allowed, a style cannot run or send.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
if HTTPS:
    SECURE_HSTS_SECONDS = 31536000
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Internationalisation -------------------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files (served by the app itself through WhiteNoise; nothing from the internet) ---

STATIC_URL = "/static/"
#: where `louzhang init` collects (and compresses) the static files; several installations of one
#: release may share one directory
STATIC_ROOT = Path(env_str("LOUZHANG_STATIC_ROOT") or VAR_DIR / "static").resolve()
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(VAR_DIR / "media")}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps when `louzhang init` has not collected them yet.
WHITENOISE_USE_FINDERS = True
#: files served at the site's root (/favicon.ico)
WHITENOISE_ROOT = PACKAGE_DIR / "web" / "static" / "louzhang" / "root"

# --- API ------------------------------------------------------------------------------------

NINJA_PAGINATION_PER_PAGE = 100
NINJA_PAGINATION_MAX_LIMIT = 1000
#: the longest request line (path and query) `louzhang serve` reads: gunicorn's own maximum
REQUEST_LINE_LIMIT = 8190
LOUZHANG_API_RATE_USER = env_str("LOUZHANG_API_RATE_USER", "6000/m")
LOUZHANG_API_RATE_ANON = env_str("LOUZHANG_API_RATE_ANON", "120/m")
# Last-used time of a token is written at most this often (seconds): not one write per request.
LOUZHANG_TOKEN_TOUCH_SECONDS = 60

# --- Background work and the closed loop -----------------------------------------------------

#: the address people open links in notifications with (group chats, SMS)
LOUZHANG_BASE_URL = env_str("LOUZHANG_BASE_URL", "http://localhost:8000")
#: "database" (default: nothing but the database) or "rq" (Redis, for several worker machines)
LOUZHANG_TASKS_BACKEND = env_str("LOUZHANG_TASKS_BACKEND", "database")
if LOUZHANG_TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}
elif LOUZHANG_TASKS_BACKEND == "rq":
    if not REDIS_URL:
        raise ConfigurationError("LOUZHANG_TASKS_BACKEND=rq: set REDIS_URL as well")
    INSTALLED_APPS += ["django_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}}
else:
    raise ConfigurationError(
        f"LOUZHANG_TASKS_BACKEND: {LOUZHANG_TASKS_BACKEND!r} is not one of database, rq")
LOUZHANG_WORKER_TICK_SECONDS = env_float("LOUZHANG_WORKER_TICK_SECONDS", 2.0)
#: a worker not seen for this long is taken for dead: its tasks are taken up again
LOUZHANG_WORKER_STALE_SECONDS = env_int("LOUZHANG_WORKER_STALE_SECONDS", 60, minimum=5)
LOUZHANG_OUTBOX_SWEEP_SECONDS = env_float("LOUZHANG_OUTBOX_SWEEP_SECONDS", 2.0)
#: how long one sender holds a delivery; a sender killed mid-send lets it go after this
LOUZHANG_DELIVERY_LEASE_SECONDS = env_int("LOUZHANG_DELIVERY_LEASE_SECONDS", 60, minimum=1)
LOUZHANG_DELIVERY_TIMEOUT_SECONDS = env_float("LOUZHANG_DELIVERY_TIMEOUT_SECONDS", 10.0)
#: failed attempts (rate limits do not count) before a delivery is given up and shown as failed
LOUZHANG_DELIVERY_MAX_FAILURES = env_int("LOUZHANG_DELIVERY_MAX_FAILURES", 8, minimum=1)
#: hosts and networks channels may reach besides the chat platforms' own hosts
#: ("127.0.0.1/32,10.20.0.0/16,im.gaj.example"); checked at start-up (`notifications.policy`)
LOUZHANG_CHANNEL_ALLOW = env_list("LOUZHANG_CHANNEL_ALLOW", [])
#: remind the owner this many minutes after a follow-up's due time
LOUZHANG_FOLLOWUP_REMIND_AFTER_MINUTES = env_int("LOUZHANG_FOLLOWUP_REMIND_AFTER_MINUTES", 0, minimum=0)
#: escalate to the next tier of commanders (station, branch, city …) this many minutes after due
LOUZHANG_ESCALATE_AFTER_MINUTES = env_int_list("LOUZHANG_ESCALATE_AFTER_MINUTES", [60, 240])
LOUZHANG_ESCALATION_CHECK_SECONDS = env_int("LOUZHANG_ESCALATION_CHECK_SECONDS", 60, minimum=1)
#: a temperature at or above this (°C) opens a fever follow-up
LOUZHANG_FEVER_THRESHOLD = env_float("LOUZHANG_FEVER_THRESHOLD", 37.3)
#: home observation lasts this many days after the last exposure (14), unless the key region
#: says otherwise
LOUZHANG_OBSERVATION_DAYS = env_int("LOUZHANG_OBSERVATION_DAYS", 14, minimum=1)
#: a returnee from a key region found at a visit is only proposed for home observation, for the
#: health liaison to confirm (a contact of a case always is); by default the warden's finding
#: opens it at once
LOUZHANG_OBSERVATION_NEEDS_CONFIRMATION = env_bool("LOUZHANG_OBSERVATION_NEEDS_CONFIRMATION", False)
#: the evening check-in of a person under home observation is due by this time (the morning
#: one by noon)
LOUZHANG_CHECK_IN_EVENING_DEADLINE = env_str("LOUZHANG_CHECK_IN_EVENING_DEADLINE") or "21:00"
try:
    _hour, _minute = (int(p) for p in LOUZHANG_CHECK_IN_EVENING_DEADLINE.split(":"))
    if not (12 <= _hour <= 23 and 0 <= _minute <= 59):
        raise ValueError
except ValueError:
    raise ConfigurationError(
        "LOUZHANG_CHECK_IN_EVENING_DEADLINE must be a time between 12:00 and 23:59, as HH:MM, "
        f"not {LOUZHANG_CHECK_IN_EVENING_DEADLINE!r}") from None
#: the day the emergency began (YYYY-MM-DD): a device record timed before it is refused as a
#: wrong clock (2019-12-01: the first cases; set it to the local start of the response)
LOUZHANG_EMERGENCY_START = env_str("LOUZHANG_EMERGENCY_START") or "2019-12-01"
try:
    from datetime import date as _date

    LOUZHANG_EMERGENCY_START_DATE = _date.fromisoformat(LOUZHANG_EMERGENCY_START)
    if LOUZHANG_EMERGENCY_START_DATE.year < 1900:
        raise ValueError
except ValueError:
    raise ConfigurationError(
        f"LOUZHANG_EMERGENCY_START must be a date after 1900 as YYYY-MM-DD, not {LOUZHANG_EMERGENCY_START!r}"
    ) from None
#: a shift planned longer than this many hours is flagged on the roster before it starts
LOUZHANG_MAX_SHIFT_HOURS = env_int("LOUZHANG_MAX_SHIFT_HOURS", 12, minimum=1)
#: how often the worker rolls today's records up into the figures of the dashboard and 日报
LOUZHANG_STATS_REFRESH_SECONDS = env_int("LOUZHANG_STATS_REFRESH_SECONDS", 60, minimum=5)
#: how long a look-up outside the jurisdiction (break-the-glass) stays open
LOUZHANG_BREAK_GLASS_MINUTES = env_int("LOUZHANG_BREAK_GLASS_MINUTES", 30, minimum=1)
#: look-ups outside the jurisdiction one officer may make in 24 hours
LOUZHANG_BREAK_GLASS_PER_DAY = env_int("LOUZHANG_BREAK_GLASS_PER_DAY", 10, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}

"""Settings for the demo clinic API and the test suite.

The database and cache are chosen by environment variables so that one suite runs on
SQLite + local memory (the default), PostgreSQL, MariaDB and Redis:

    APIERRORS_DB=sqlite|postgres|mariadb     APIERRORS_CACHE=locmem|redis

The demo's SQLite files are demo.sqlite3 and demo-other.sqlite3 beside manage.py, or
APIERRORS_SQLITE_PATH and APIERRORS_SQLITE_OTHER_PATH.
"""

import importlib.util
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "apierrors",
    "testproject.clinic",
]
# The admin's import/export (pip install apierrors[admin]); the admin works without it.
if importlib.util.find_spec("import_export") is not None:
    INSTALLED_APPS.append("import_export")

MIDDLEWARE = [
    "apierrors.middleware.AtomicRequestsMiddleware",
    "apierrors.errors_middleware.APIErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "testproject.urls"
WSGI_APPLICATION = "testproject.wsgi.application"
ASGI_APPLICATION = "testproject.asgi.application"

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
            ],
        },
    },
]

_DB = os.environ.get("APIERRORS_DB", "sqlite")
# A per-run suffix keeps concurrent test runs on one server from sharing a test database.
_TEST_SUFFIX = os.environ.get("APIERRORS_TEST_DB_SUFFIX", "")

if _DB == "postgres":
    DATABASES = {
        alias: {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "postgres",
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": "5432",
            "TEST": {"NAME": f"test_apierrors_{alias}{_TEST_SUFFIX}"},
        }
        for alias in ("default", "other")
    }
elif _DB == "mariadb":
    DATABASES = {
        alias: {
            "ENGINE": "django.db.backends.mysql",
            "NAME": "test",
            "USER": "root",
            "PASSWORD": "",
            "HOST": "127.0.0.1",
            "PORT": "3306",
            "OPTIONS": {"charset": "utf8mb4"},
            "TEST": {
                "NAME": f"test_apierrors_{alias}{_TEST_SUFFIX}",
                "CHARSET": "utf8mb4",
                "COLLATION": "utf8mb4_unicode_ci",
            },
        }
        for alias in ("default", "other")
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("APIERRORS_SQLITE_PATH", str(BASE_DIR / "demo.sqlite3")),
        },
        # Tests use in-memory SQLite databases (Django's default), private to each run.
        "other": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get(
                "APIERRORS_SQLITE_OTHER_PATH", str(BASE_DIR / "demo-other.sqlite3")
            ),
        },
    }

if os.environ.get("APIERRORS_CACHE", "locmem") == "redis":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("APIERRORS_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "KEY_PREFIX": f"apierrors{_TEST_SUFFIX}",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # The demo runs one process (runserver); a real deployment shares Redis (see README).
    SILENCED_SYSTEM_CHECKS = ["apierrors.W001"]

AUTH_PASSWORD_VALIDATORS = []

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("pl", "Polish"), ("es", "Spanish")]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
# The admin's CSS and JavaScript, with DEBUG off too, served by WhiteNoise (pip install -e
# ".[demo]"; without it the admin is unstyled and its preview still). Straight from each app's
# static/ folder, as DEBUG would: no collectstatic step to forget, nothing stale after an edit,
# no scan of every file when a process (or a test client) starts. A deployment collects into
# STATIC_ROOT instead and turns both off (their default, DEBUG).
if importlib.util.find_spec("whitenoise") is not None:
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "apierrors.handler.exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "testproject.clinic.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "apierrors.negotiation.ErrorFormatNegotiation",
    # DRF's parsers, but JSON numbers too big for a float (1e999) are a 400 parse_error.
    "DEFAULT_PARSER_CLASSES": [
        "apierrors.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {"booking": "30/minute"},
}

APIERRORS = {
    "DEFAULT_FORMAT": os.environ.get("APIERRORS_FORMAT", "fhir"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"apierrors": {"handlers": ["console"], "level": "INFO"}},
}

# -- HTTP semantics: CSRF failures of plain views, OpenAPI (pip install -e ".[openapi]") -----
CSRF_FAILURE_VIEW = "apierrors.views.csrf_failure"
APIERRORS["MAINTENANCE"] = os.environ.get("APIERRORS_MAINTENANCE", "") == "1"

# Without them, the demo runs without the schema and the request validation.
if all(importlib.util.find_spec(m) is not None for m in ("drf_spectacular", "openapi_core")):
    INSTALLED_APPS.append("drf_spectacular")
    REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "apierrors.schema.AutoSchema"
    SPECTACULAR_SETTINGS = {
        "TITLE": "Clinic API (apierrors demo)",
        "VERSION": "1.0.0",
        "SERVE_INCLUDE_SCHEMA": False,
    }
    # With APIERRORS_OPENAPI_VALIDATION=1, requests are checked against that schema before
    # the view runs (400 openapi_validation); off by default, so DRF's validation answers.
    APIERRORS["OPENAPI_VALIDATION"] = os.environ.get("APIERRORS_OPENAPI_VALIDATION", "") == "1"
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "apierrors.openapi.OpenAPIValidationMiddleware",
    )

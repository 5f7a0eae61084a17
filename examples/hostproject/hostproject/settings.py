"""Settings of the example bookshop API. The lines marked "apierrors" are all it took to adopt
apierrors (README.md, "Install in your project")."""

import os
from pathlib import Path

from hostproject import errortracking

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "rest_framework.authtoken",
    "apierrors",  # apierrors
    "library",
]

MIDDLEWARE = [
    "apierrors.middleware.AtomicRequestsMiddleware",  # apierrors, first
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "hostproject.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    },
]

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"},
    # In production a read replica of default; locally the same file; in tests a mirror.
    "replica": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
        "TEST": {"MIRROR": "default"},
    },
    # Books taken off sale, rarely read.
    "archive": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "archive.sqlite3"},
}
DATABASE_ROUTERS = ["hostproject.routers.PrimaryReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # apierrors:
    "EXCEPTION_HANDLER": "apierrors.handler.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "apierrors.negotiation.ErrorFormatNegotiation",
}
APIERRORS = {"DEFAULT_FORMAT": "fhir"}  # apierrors

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_TZ = True

DEFAULT_FROM_EMAIL = "shop@bookshop.example"
STOCK_TEAM_EMAIL = "stock@bookshop.example"
PAYMENT_API_KEY = os.environ.get("PAYMENT_API_KEY", "")

# Error tracking; in production this is sentry_sdk.init(dsn=..., integrations=[Django...]).
errortracking.init()

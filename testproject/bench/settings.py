"""Settings for the gunicorn workers ``manage.py bench_load`` starts, and nothing else.

The demo's settings (PostgreSQL + Redis through APIERRORS_DB / APIERRORS_CACHE) pointed at the
benchmark's throwaway databases, serving ``testproject.bench.urls``, with DEBUG off and no log
line per 4xx (Django's "Not Found: ..." warnings would be measured instead of the handler).
"""

import os

from testproject.settings import *  # noqa: F403

DEBUG = False
DATABASES["default"]["NAME"] = os.environ["APIERRORS_BENCH_DEFAULT_DB"]  # noqa: F405
DATABASES["other"]["NAME"] = os.environ["APIERRORS_BENCH_OTHER_DB"]  # noqa: F405
for _alias in DATABASES:  # noqa: F405
    DATABASES[_alias]["CONN_MAX_AGE"] = 60  # noqa: F405 - as a production site runs
ROOT_URLCONF = "testproject.bench.urls"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "apierrors": {"handlers": ["console"], "level": "WARNING"},
    },
}

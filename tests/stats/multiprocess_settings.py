"""Settings for the gunicorn workers of ``test_multiprocess.py`` (error statistics): the
project's settings on the test run's databases and Redis, the statistics' test views, a
short flush interval, and each response naming its worker in ``X-Worker-Pid``."""

import os

from testproject.settings import *  # noqa: F403

DATABASES["default"]["NAME"] = os.environ["APIERRORS_MP_DEFAULT_DB"]  # noqa: F405
DATABASES["other"]["NAME"] = os.environ["APIERRORS_MP_OTHER_DB"]  # noqa: F405
ROOT_URLCONF = "tests.stats.urls"
MIDDLEWARE = ["tests.stats.multiprocess_settings.worker_pid", *MIDDLEWARE]  # noqa: F405
APIERRORS = {
    **APIERRORS,  # noqa: F405
    "STATS_FLUSH_SECONDS": 0.5,
    "STATS_STORE": os.environ["APIERRORS_MP_STATS_STORE"],
}


def worker_pid(get_response):
    def middleware(request):
        response = get_response(request)
        response["X-Worker-Pid"] = str(os.getpid())
        return response

    return middleware

"""Settings for the gunicorn workers ``test_multiprocess.py`` starts, and nothing else.

The project's settings (PostgreSQL + Redis through APIERRORS_DB / APIERRORS_CACHE), pointed at
the test run's databases, serving the run-time test views, and naming the worker process in
an ``X-Worker-Pid`` header so the test knows which worker answered.
"""

import os

from testproject.settings import *  # noqa: F403

DATABASES["default"]["NAME"] = os.environ["APIERRORS_MP_DEFAULT_DB"]  # noqa: F405
DATABASES["other"]["NAME"] = os.environ["APIERRORS_MP_OTHER_DB"]  # noqa: F405
ROOT_URLCONF = "tests.runtime.runtime_urls"
if "APIERRORS_MP_STAMP_CHECK_SECONDS" in os.environ:
    APIERRORS["STAMP_CHECK_SECONDS"] = float(  # noqa: F405
        os.environ["APIERRORS_MP_STAMP_CHECK_SECONDS"]
    )
MIDDLEWARE = ["tests.runtime.multiprocess_settings.worker_pid", *MIDDLEWARE]  # noqa: F405


def worker_pid(get_response):
    def middleware(request):
        response = get_response(request)
        response["X-Worker-Pid"] = str(os.getpid())
        return response

    return middleware

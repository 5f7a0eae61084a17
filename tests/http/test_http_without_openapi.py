"""drf-spectacular and openapi-core are optional (apierrors[openapi]): the demo runs without them.

In a fresh interpreter where both cannot be imported, the demo starts, has no schema URL,
and still answers with every HTTP behaviour that doesn't need them (ETag, 412, 401 challenge).
"""

import textwrap

from ..conftest import run_in_fresh_interpreter

SCRIPT = textwrap.dedent("""
    import os, sys
    sys.modules["drf_spectacular"] = None  # as if not installed: importing raises ImportError
    sys.modules["openapi_core"] = None
    os.environ["DJANGO_SETTINGS_MODULE"] = "testproject.settings"
    import django
    django.setup()
    from django.conf import settings
    assert "drf_spectacular" not in settings.INSTALLED_APPS
    assert not any("openapi" in m for m in settings.MIDDLEWARE)
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from django.test.utils import setup_test_environment
    from rest_framework.test import APIClient
    from testproject.clinic.demo_data import DEMO_PATIENT_ID, load_demo_data
    setup_test_environment()
    tokens = load_demo_data()
    client = APIClient()
    assert client.get("/api/v1/patients/").headers["WWW-Authenticate"] == 'Bearer realm="api"'
    client.credentials(HTTP_AUTHORIZATION="Bearer " + tokens["north"])
    assert client.get("/api/schema/").status_code == 404
    url = f"/api/v1/patients/{DEMO_PATIENT_ID}/"
    etag = client.get(url).headers["ETag"]
    assert client.patch(url, {"name": "A"}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    assert client.patch(url, {"name": "B"}, format="json", HTTP_IF_MATCH=etag).status_code == 412
    print("OK")
""")


def test_demo_runs_without_the_openapi_extra():
    run_in_fresh_interpreter(SCRIPT)

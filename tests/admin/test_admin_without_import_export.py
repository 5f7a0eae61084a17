"""django-import-export is optional (apierrors[admin]): without it the admin still works."""

import textwrap

from ..conftest import run_in_fresh_interpreter

SCRIPT = textwrap.dedent("""
    import os
    os.environ["DJANGO_SETTINGS_MODULE"] = "testproject.settings"
    from django.conf import settings
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "import_export"]
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import User
    from django.test import Client
    from django.test.utils import setup_test_environment
    from apierrors.admin import dictionary as errors_admin
    from apierrors.models import ErrorCode
    setup_test_environment()
    assert not errors_admin.IMPORT_EXPORT
    client = Client()
    client.force_login(User.objects.create_superuser("admin", "a@example.com", "pw"))
    changelist = client.get("/admin/apierrors/errorcode/")
    assert changelist.status_code == 200, changelist.status_code
    assert b"/import/" not in changelist.content
    entry = ErrorCode.objects.get(key="unknown_resource")
    page = client.get(f"/admin/apierrors/errorcode/{entry.pk}/change/")
    assert page.status_code == 200 and b"apierrors-body" in page.content
    assert client.get("/admin/apierrors/errorcode/import/").status_code in (302, 404)
    print("OK")
""")


def test_admin_works_without_django_import_export():
    # The point is the admin, not the database: a private in-memory SQLite whatever the run.
    run_in_fresh_interpreter(SCRIPT)

import secrets

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from testproject.clinic.demo_data import DEMO_PATIENT_ID, load_demo_data
from testproject.clinic.models import Practitioner


class Command(BaseCommand):
    help = "Migrate, load the demo clinic data, create an admin login, and serve on 127.0.0.1."

    def add_arguments(self, parser):
        parser.add_argument(
            "--addrport",
            default="127.0.0.1:8000",
            help="Where to serve (default 127.0.0.1:8000), as runserver takes it.",
        )
        parser.add_argument("--no-serve", action="store_true", help="Set up, print, and exit.")

    def handle(self, *args, addrport, no_serve, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("migrate", database="other", interactive=False, verbosity=0)
        tokens = load_demo_data()
        practitioner = Practitioner.objects.order_by("pk").first()
        password = secrets.token_urlsafe(12)
        admin, _ = get_user_model().objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        admin.is_staff = admin.is_superuser = True
        admin.set_password(password)
        admin.save()
        base = f"http://{addrport}"
        auth = f"-H 'Authorization: Bearer {tokens['north']}'"
        self.stdout.write(self.style.SUCCESS("apierrors demo is ready."))
        self.stdout.write(f"""
  Admin:      {base}/admin/   user: admin   password: {password}
  Dictionary: {base}/errors/
  API token:  {tokens["north"]}   (North Clinic; South Clinic: {tokens["south"]})

  Try:
    curl -i {base}/api/v1/patients/{DEMO_PATIENT_ID}/ {auth}    # 200, an ETag
    curl -i {base}/api/v1/patients/a47c7b0ebbb442cdbc4adf259d148ea1/ {auth}    # 404
    curl -i {base}/api/v1/patients/ -H 'Accept: application/problem+json'    # 401, a challenge
    curl -i {base}/api/v1/audit-log/ {auth}    # 401 unauthorized: valid token, no challenge
    curl -i -X PATCH {base}/api/v1/practitioners/{practitioner.pk}/ {auth} \\
         -H 'Content-Type: application/json' -d '{{"name": "Dr. J. Snow"}}'    # 428: no If-Match
    curl -i {base}/api/v1/broken/    # 500: the bug's text is in this log, not the response
""")
        if not no_serve:
            call_command("runserver", addrport, use_reloader=False)

"""Demo data for the clinic API: two practices, staff with API tokens, patients, slots."""

import datetime
import uuid

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.authtoken.models import Token

from .models import Appointment, Patient, Practice, Practitioner, Slot, StaffMember

# Fixed ids so the README's example requests work on every fresh demo.
DEMO_PATIENT_ID = uuid.UUID("5d3f1a2b-6c7d-4e8f-9a0b-1c2d3e4f5a6b")
OTHER_PRACTICE_PATIENT_ID = uuid.UUID("0b5c9f1e-3d2a-4c1b-9e8f-7a6b5c4d3e2f")
DEMO_TOKEN = "demo-token-north-clinic-0000000000000000"
OTHER_TOKEN = "demo-token-south-clinic-0000000000000000"


def load_demo_data() -> dict[str, str]:
    """Create (idempotently) the demo data; return the API tokens by username."""
    north, _ = Practice.objects.get_or_create(name="North Clinic")
    south, _ = Practice.objects.get_or_create(name="South Clinic")
    tokens = {}
    for username, practice, key in (("north", north, DEMO_TOKEN), ("south", south, OTHER_TOKEN)):
        user, _ = get_user_model().objects.get_or_create(username=username)
        StaffMember.objects.get_or_create(user=user, defaults={"practice": practice})
        Token.objects.get_or_create(user=user, defaults={"key": key})
        tokens[username] = Token.objects.get(user=user).key
    patient, _ = Patient.objects.get_or_create(
        id=DEMO_PATIENT_ID,
        defaults={
            "practice": north,
            "identifier": "NC-0001",
            "name": "Ada Lovelace",
            "email": "ada@example.org",
        },
    )
    Patient.objects.get_or_create(
        id=OTHER_PRACTICE_PATIENT_ID,
        defaults={"practice": south, "identifier": "SC-0001", "name": "Grace Hopper"},
    )
    doctor, _ = Practitioner.objects.get_or_create(practice=north, name="Dr. John Snow")
    if not doctor.slots.exists():
        start = timezone.now().replace(minute=0, second=0, microsecond=0)
        for hour in range(1, 9):
            Slot.objects.create(practitioner=doctor, start=start + datetime.timedelta(hours=hour))
    first = doctor.slots.order_by("start").first()
    Appointment.objects.get_or_create(slot=first, defaults={"patient": patient})
    return tokens

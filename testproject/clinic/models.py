"""A small clinic scheduling domain: practices, their staff, patients, slots, appointments."""

import uuid

from django.conf import settings
from django.db import models


class Practice(models.Model):
    name = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.name


class StaffMember(models.Model):
    """Which practice an API user works for; they see only that practice's data."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="staff")

    def __str__(self) -> str:
        return f"{self.user} @ {self.practice}"


class Patient(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="patients")
    identifier = models.CharField(
        max_length=64, unique=True, help_text="The patient's national or chart identifier."
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)

    def __str__(self) -> str:
        return self.name


class Practitioner(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="practitioners")
    name = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.name


class Slot(models.Model):
    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="slots")
    start = models.DateTimeField()
    minutes = models.PositiveSmallIntegerField(default=30)

    class Meta:
        ordering = ["start"]

    def __str__(self) -> str:
        return f"{self.practitioner} {self.start:%Y-%m-%d %H:%M}"


class Appointment(models.Model):
    # One appointment per slot: the database refuses a double booking even under a race.
    slot = models.OneToOneField(Slot, on_delete=models.PROTECT, related_name="appointment")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.patient} at {self.slot}"

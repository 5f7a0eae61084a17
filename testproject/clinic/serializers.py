from rest_framework import serializers

from .models import Appointment, Patient, Practitioner, Slot


class PatientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = ["id", "identifier", "name", "email"]
        # Uniqueness is the database's job: a duplicate identifier is a 409 conflict,
        # detected by the constraint even when two requests race.
        extra_kwargs = {"identifier": {"validators": []}}


class PatientImportSerializer(serializers.Serializer):
    """``{"items": [patient, ...]}``: a list error names the item, e.g. ``items.0.email``."""

    items = PatientSerializer(many=True, allow_empty=False)


class PractitionerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Practitioner
        fields = ["id", "name"]


class SlotSerializer(serializers.ModelSerializer):
    booked = serializers.SerializerMethodField()

    class Meta:
        model = Slot
        fields = ["id", "practitioner", "start", "minutes", "booked"]

    def get_booked(self, slot) -> bool:
        return hasattr(slot, "appointment")


class AppointmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Appointment
        fields = ["id", "slot", "patient", "created"]
        # A taken slot is a business-rule failure (422 appointment_unavailable), not a 400.
        extra_kwargs = {"slot": {"validators": []}}


class AuditEntrySerializer(serializers.Serializer):
    """One admin change of the error dictionary (``django.contrib.admin``'s ``LogEntry``)."""

    time = serializers.DateTimeField(source="action_time")
    user = serializers.CharField(source="user.get_username")
    entry = serializers.CharField(source="object_repr")
    change = serializers.CharField(source="get_change_message")

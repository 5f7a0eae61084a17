from django.contrib import admin

from .models import Appointment, Patient, Practice, Practitioner, Slot, StaffMember

admin.site.register([Practice, StaffMember, Practitioner, Slot])


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["name", "identifier", "practice"]
    search_fields = ["name", "identifier"]


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["patient", "slot", "created"]

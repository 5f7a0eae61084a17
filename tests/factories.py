import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.authtoken.models import Token

from apierrors.models import ErrorCode, ErrorTranslation
from testproject.clinic import models


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Practice

    name = factory.Sequence(lambda n: f"Practice {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.StaffMember

    user = factory.SubFactory(UserFactory)
    practice = factory.SubFactory(PracticeFactory)


class TokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Token

    user = factory.SubFactory(UserFactory)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Patient

    practice = factory.SubFactory(PracticeFactory)
    identifier = factory.Sequence(lambda n: f"ID-{n:05d}")
    name = factory.Faker("name")
    email = factory.Faker("email")


class PractitionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Practitioner

    practice = factory.SubFactory(PracticeFactory)
    name = factory.Faker("name")


class SlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Slot

    practitioner = factory.SubFactory(PractitionerFactory)
    start = factory.Sequence(
        lambda n: timezone.now().replace(microsecond=0) + datetime.timedelta(hours=n + 1)
    )


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Appointment

    slot = factory.SubFactory(SlotFactory)
    patient = factory.SubFactory(PatientFactory)


class ErrorCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ErrorCode

    key = factory.Sequence(lambda n: f"custom_error_{n}")
    error_code = factory.Sequence(lambda n: 9000 + n)
    status = 422
    title = "Custom error"
    message = "Custom message {thing}"
    fhir_code = "business-rule"


class ErrorTranslationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ErrorTranslation

    error = factory.SubFactory(ErrorCodeFactory)
    language = "pl"
    title = ""
    message = ""

"""The process's copy of the dictionary only ever holds committed data.

A request that edits an entry and then fails rolls the edit back (AtomicRequestsMiddleware).
If the copy had to be (re)loaded while that request rendered its error, the load ran inside
the request's transaction and read the edit; kept as the process's copy, the rolled-back text
was served until the next edit. Here, through HTTP, in a cold process and in a warm one whose
copy another process's edit made stale.
"""

import json
import threading

import pytest
from django.db import connections, transaction
from django.urls import include, path
from rest_framework.views import APIView

from apierrors.dictionary.catalog import STAMP_KEY, get_entry
from apierrors.exceptions import APIError
from apierrors.models import ErrorCode

from ..runtime.runtime_urls import shared_stamp_cache

BOOKED = "This appointment time is no longer available."
ROLLED_BACK = "Edited by a request that then failed."


class EditThenFailView(APIView):
    """Support tooling gone wrong: it saves an entry, then fails (so everything rolls back)."""

    authentication_classes: list = []
    permission_classes: list = []
    error_format = "problem"

    def post(self, request):
        row = ErrorCode.objects.get(key="appointment_unavailable")
        row.message = ROLLED_BACK
        row.save()
        raise APIError("appointment_unavailable")


urlpatterns = [
    path("edit-then-fail/", EditThenFailView.as_view()),
    path("", include("tests.runtime.runtime_urls")),
]

pytestmark = [
    pytest.mark.urls(__name__),
    pytest.mark.django_db(transaction=True, databases="__all__"),
]


def served_text(client) -> str:
    response = client.get("/rt/problem/business/")
    assert response.status_code == 422
    return json.loads(response.content)["detail"]


def fail_after_editing(client) -> None:
    response = client.post("/edit-then-fail/")
    assert response.status_code == 422
    # The premise: the middleware rolled the edit back.
    assert ErrorCode.objects.get(key="appointment_unavailable").message == BOOKED


def test_a_cold_process_does_not_keep_a_rolled_back_edit(client):
    fail_after_editing(client)  # the first error response of this process loads the copy
    assert served_text(client) == BOOKED
    assert served_text(client) == BOOKED


def test_a_stale_copy_reloaded_by_a_failing_edit_keeps_only_committed_text(
    client, settings, tmp_path
):
    stamps = shared_stamp_cache(settings, tmp_path)
    assert served_text(client) == BOOKED  # warm
    # Another process commits an edit of another entry: this copy is now stale.
    ErrorCode.objects.filter(key="not_found").update(message="Nothing here.")
    stamps.set(STAMP_KEY, "published-by-another-process", timeout=None)
    fail_after_editing(client)  # reloads while its own edit is uncommitted
    assert served_text(client) == BOOKED
    assert get_entry("not_found").render_message() == "Nothing here."  # the reload happened


def test_an_uncommitted_edit_is_seen_by_its_own_transaction_only(settings, tmp_path):
    # Inside the transaction that edits, its lookups read the edit (as its queries do); no
    # other thread does, and once it rolls back, nobody does.
    shared_stamp_cache(settings, tmp_path)
    seen_elsewhere = []

    def other_thread() -> None:
        try:
            seen_elsewhere.append(get_entry("appointment_unavailable").render_message())
        finally:
            connections.close_all()

    with pytest.raises(RuntimeError), transaction.atomic():
        row = ErrorCode.objects.get(key="appointment_unavailable")
        row.message = ROLLED_BACK
        row.save()
        assert get_entry("appointment_unavailable").render_message() == ROLLED_BACK
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join(timeout=30)
        raise RuntimeError("the transaction fails")
    assert seen_elsewhere == [BOOKED]
    assert get_entry("appointment_unavailable").render_message() == BOOKED

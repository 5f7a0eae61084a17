"""AtomicRequestsMiddleware pieces that need no database."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from apierrors.transactions.middleware import AtomicRequestsMiddleware, non_atomic


@pytest.mark.parametrize("aliases", [["replica"], "default"])
def test_bad_atomic_databases_setting_fails_at_startup(aliases):
    with (
        override_settings(APIERRORS={"ATOMIC_DATABASES": aliases}),
        pytest.raises(ImproperlyConfigured, match="ATOMIC_DATABASES"),
    ):
        AtomicRequestsMiddleware(lambda request: None)


def test_middleware_follows_the_handler_mode():
    async def async_handler(request):
        return None

    assert AtomicRequestsMiddleware(lambda request: None).async_mode is False
    assert AtomicRequestsMiddleware(async_handler).async_mode is True


def test_non_atomic_marks_functions_and_classes():
    @non_atomic
    def view(request):
        return None

    @non_atomic
    class View:
        pass

    assert view.atomic_requests is False
    assert View.atomic_requests is False


def test_opt_out_through_django_decorators_on_a_class():
    from django.db import transaction
    from django.test import RequestFactory
    from django.utils.decorators import method_decorator
    from django.views import View

    from apierrors.transactions.view_policy import view_facts

    @method_decorator(transaction.non_atomic_requests(using="other"), name="dispatch")
    class DispatchOptOut(View):
        def post(self, request):
            return None

    class MethodOptOut(View):
        @method_decorator(transaction.non_atomic_requests)
        def post(self, request):
            return None

    post, get = RequestFactory().post("/"), RequestFactory().get("/")
    assert view_facts(post, DispatchOptOut.as_view()) == (
        DispatchOptOut,
        False,
        frozenset({"other"}),
    )
    method_view = MethodOptOut.as_view()
    assert view_facts(post, method_view)[2] == frozenset({"default"})
    assert view_facts(get, method_view)[2] == frozenset()


def test_unhashable_view_callable_is_inspected_without_caching():
    from django.test import RequestFactory

    from apierrors.transactions.view_policy import view_facts

    class Unhashable:
        __hash__ = None
        atomic_requests = False

        def __call__(self, request):
            return None

    facts = view_facts(RequestFactory().get("/"), Unhashable())
    assert facts[1] is False
    assert facts[2] == frozenset({"default", "other"})

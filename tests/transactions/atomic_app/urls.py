"""URLs for the AtomicRequestsMiddleware tests
(``@pytest.mark.urls("tests.transactions.atomic_app.urls")``).
"""

from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("plain/", views.plain),
    path("plain/async/", views.plain_async),
    path("plain/non-atomic/", views.plain_non_atomic),
    path("plain/non-atomic-other/", views.plain_non_atomic_other),
    path("plain/durable/", views.durable),
    path("plain/durable-non-atomic/", views.durable_non_atomic),
    path("plain/stream/", views.stream),
    path("plain/count/", views.count),
    path("plain/wait/", views.wait),
    path("api/", views.ApiView.as_view()),
    path("api/function/", views.api_function),
    path("api/non-atomic/", views.ApiNonAtomicView.as_view()),
    path("api/method-non-atomic/", views.ApiMethodNonAtomicView.as_view()),
    path("api/problem/", views.ApiProblemView.as_view()),
    path("api/groups/", views.GroupViewSet.as_view({"post": "create"})),
    path("api/groups/<str:pk>/", views.GroupViewSet.as_view({"put": "update"})),
]

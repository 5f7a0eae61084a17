from django.urls import include, path
from rest_framework.routers import DefaultRouter

from library import views

router = DefaultRouter()
router.register("authors", views.AuthorViewSet)
router.register("books", views.BookViewSet)
router.register("partner/books", views.PartnerBookViewSet, basename="partner-book")
router.register("archive", views.ArchivedBookViewSet)

urlpatterns = [
    path("api/isbn-check/", views.IsbnCheckView.as_view()),
    path("api/", include(router.urls)),
    path("errors/", include("apierrors.urls")),  # apierrors: the published error dictionary
]

# apierrors: Django's own error pages in the API's format under /api/
handler400 = "apierrors.views.bad_request"
handler403 = "apierrors.views.permission_denied"
handler404 = "apierrors.views.page_not_found"
handler500 = "apierrors.views.server_error"

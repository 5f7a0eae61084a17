from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from . import payments
from .models import ArchivedBook, Author, Book
from .serializers import ArchivedBookSerializer, AuthorSerializer, BookSerializer, IsbnSerializer


class AuthorViewSet(viewsets.ModelViewSet):
    queryset = Author.objects.order_by("id")
    serializer_class = AuthorSerializer

    @action(detail=True, url_path="average-stock")
    def average_stock(self, request, pk=None):
        books = list(self.get_object().books.all())
        # A bug, kept for the tests: an author without books divides by zero.
        return Response({"average_stock": sum(b.in_stock for b in books) / len(books)})


class BookViewSet(viewsets.ModelViewSet):
    queryset = Book.objects.order_by("id")
    serializer_class = BookSerializer

    def perform_create(self, serializer):
        book = serializer.save()
        transaction.on_commit(
            lambda: send_mail(
                f"New book: {book.title}",
                f"{book.title} ({book.isbn}) is in the catalogue.",
                None,
                [settings.STOCK_TEAM_EMAIL],
            )
        )

    @action(detail=False, methods=["post"], url_path="import")
    def import_books(self, request):
        """Add a list of books, one by one; if one is invalid, none is added."""
        books = []
        for item in request.data:
            serializer = self.get_serializer(data=item)
            serializer.is_valid(raise_exception=True)
            self.perform_create(serializer)
            books.append(serializer.instance)
        return Response(self.get_serializer(books, many=True).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def sell(self, request, pk=None):
        book = self.get_object()
        book.in_stock -= 1
        book.save(update_fields=["in_stock"])
        receipt = payments.charge(1500, f"Book {book.isbn}")
        return Response({"receipt": receipt, "in_stock": book.in_stock})

    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        book = self.get_object()
        archived = ArchivedBook.objects.create(
            title=book.title, isbn=book.isbn, author_name=book.author.name
        )
        book.delete()
        return Response(ArchivedBookSerializer(archived).data, status=status.HTTP_201_CREATED)


class PartnerBookViewSet(viewsets.ReadOnlyModelViewSet):
    """The catalogue for a booking partner whose client reads Docplanner-style error codes."""

    queryset = Book.objects.order_by("id")
    serializer_class = BookSerializer
    error_format = "docplanner"


class ArchivedBookViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = ArchivedBook.objects.order_by("-archived_at")
    serializer_class = ArchivedBookSerializer


class IsbnCheckView(APIView):
    """Public: check and normalise an ISBN-13 (no database)."""

    permission_classes = [AllowAny]

    def post(self, request):
        serializer = IsbnSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)

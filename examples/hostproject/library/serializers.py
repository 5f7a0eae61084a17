from rest_framework import serializers

from .models import ArchivedBook, Author, Book


def check_isbn13(value):
    digits = value.replace("-", "")
    if len(digits) != 13 or not digits.isdigit():
        raise serializers.ValidationError("An ISBN-13 has 13 digits.")
    if sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10:
        raise serializers.ValidationError("The ISBN's check digit is wrong.")
    return digits


class AuthorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "name"]


class BookSerializer(serializers.ModelSerializer):
    class Meta:
        model = Book
        fields = ["id", "title", "isbn", "author", "in_stock"]

    def validate_isbn(self, value):
        return check_isbn13(value)


class ArchivedBookSerializer(serializers.ModelSerializer):
    class Meta:
        model = ArchivedBook
        fields = ["id", "title", "isbn", "author_name", "archived_at"]


class IsbnSerializer(serializers.Serializer):
    isbn = serializers.CharField(max_length=17)

    def validate_isbn(self, value):
        return check_isbn13(value)

from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=200)

    def __str__(self):
        return self.name


class Book(models.Model):
    title = models.CharField(max_length=200)
    isbn = models.CharField("ISBN", max_length=13, unique=True)
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="books")
    in_stock = models.PositiveIntegerField(default=0)

    def __str__(self):
        return self.title


class ArchivedBook(models.Model):
    """A book taken off sale; stored in the "archive" database (hostproject.routers)."""

    title = models.CharField(max_length=200)
    isbn = models.CharField("ISBN", max_length=13)
    author_name = models.CharField(max_length=200)
    archived_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.title

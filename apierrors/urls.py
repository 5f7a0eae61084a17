"""The published dictionary: ``path("errors/", include("apierrors.urls"))``."""

from django.urls import path

from .published import views as published

app_name = "apierrors"

urlpatterns = [
    path("", published.dictionary_html, name="dictionary"),
    path("dictionary.json", published.dictionary_json, name="dictionary-json"),
    path("<slug:key>/", published.entry_detail, name="entry"),
]

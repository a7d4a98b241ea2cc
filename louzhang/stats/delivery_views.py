"""A commander chooses when the day's summary goes to their channels."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

"""The dashboard of figures for commanders."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

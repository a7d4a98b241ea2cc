"""The daily report (日报): the download button, the job's page, the printable page."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

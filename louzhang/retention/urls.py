"""The residents' privacy page (included at the site root)."""

from django.urls import path

from louzhang.retention import views

urlpatterns = [
    path("privacy/", views.privacy, name="privacy"),
]

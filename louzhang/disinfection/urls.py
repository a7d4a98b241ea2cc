"""Disinfection pages (included at the site root): the wardens' under `disinfection/`, the
representative's personal link under `d/`."""

from django.urls import path

from louzhang.disinfection import views

urlpatterns = [
    path("disinfection/", views.coverage, name="disinfection"),
    path("disinfection/mine/", views.mine, name="disinfection-mine"),
    path("disinfection/units/<str:code>/", views.unit_page, name="disinfection-unit"),
    path("disinfection/units/<str:code>/record", views.unit_record_view, name="disinfection-record"),
    path("disinfection/areas/<str:code>/plan", views.plan_set_view, name="disinfection-plan"),
    path("disinfection/representatives/<int:pk>/renew-link", views.representative_renew_view,
         name="disinfection-rep-renew"),
    path("disinfection/representatives/<int:pk>/end", views.representative_end_view,
         name="disinfection-rep-end"),
    path("d/<str:token>/", views.personal_link, name="disinfection-link"),
]

"""Home observation pages (included at the site root): the officers' pages under
`observations/`, opening one from a household, and the resident's personal link under `o/`."""

from django.urls import path

from louzhang.observation import views

urlpatterns = [
    path("observations/", views.observation_list, name="observations"),
    path("observations/<int:pk>/", views.observation_detail, name="observation"),
    path("observations/<int:pk>/check-in", views.observation_check_in_view, name="observation-check-in"),
    path("observations/<int:pk>/confirm", views.observation_confirm_view, name="observation-confirm"),
    path("observations/<int:pk>/extend", views.observation_extend_view, name="observation-extend"),
    path("observations/<int:pk>/close", views.observation_close_view, name="observation-close"),
    path("observations/<int:pk>/renew-link", views.observation_link_renew_view, name="observation-renew-link"),
    path("areas/<str:code>/observe", views.household_observe, name="household-observe"),
    path("observations/travellers/<int:inspection_id>/", views.travellers, name="observation-travellers"),
    path("o/<str:token>/", views.personal_link, name="observation-link"),
]

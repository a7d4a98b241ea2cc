from django.urls import path

from louzhang.screening import views

urlpatterns = [
    path("visits/", views.visit_list, name="visits"),
    path("visits/new/<str:code>/", views.visit_new, name="visit-new"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("rounds/", views.round_list, name="rounds"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
    path("rounds/<int:pk>/close", views.round_close_view, name="round-close"),
]

from django.urls import path

from louzhang.breakglass import views

urlpatterns = [
    path("look-ups/", views.look_up_list, name="look-ups"),
    path("look-ups/new/", views.look_up_new, name="look-up-new"),
    path("look-ups/<int:pk>/", views.look_up_detail, name="look-up"),
    path("look-ups/<int:pk>/end", views.look_up_end_view, name="look-up-end"),
]

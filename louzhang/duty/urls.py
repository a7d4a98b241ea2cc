"""People on post (included at the site root): the officers' pages, the on-post rate with the
response level, and the recalled officer's own page under `me/recall/`."""

from django.urls import path

from louzhang.duty import views

urlpatterns = [
    path("officers/", views.officer_list, name="officers"),
    path("officers/<int:pk>/", views.officer_detail, name="officer"),
    path("officers/<int:pk>/status", views.officer_status_view, name="officer-status"),
    path("on-post/", views.on_post, name="on-post"),
    path("on-post/<str:code>/response", views.response_set_view, name="response-set"),
    path("me/recall/", views.my_recall, name="my-recall"),
    path("me/recall/<int:pk>/acknowledge", views.recall_acknowledge_view, name="recall-acknowledge"),
    path("me/recall/<int:pk>/on-post", views.recall_on_post_view, name="recall-on-post"),
]

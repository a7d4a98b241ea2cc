from django.urls import path

from louzhang.tips import views

urlpatterns = [
    # the resident's side: no log-in
    path("p/<str:code>/tip/", views.tip_public, name="tip-public"),
    path("p/t/", views.tip_track, name="tip-track"),
    path("p/t/<str:code>/", views.tip_track_code, name="tip-track-code"),
    # officers
    path("tips/", views.tip_list, name="tips"),
    path("tips/new/", views.tip_new, name="tip-new"),
    path("tips/export.xlsx", views.tip_export, name="tip-export"),
    path("tips/<int:pk>/", views.tip_detail, name="tip"),
    path("tips/<int:pk>/verify", views.tip_verify_view, name="tip-verify"),
    path("tips/<int:pk>/close", views.tip_close_view, name="tip-close"),
    path("tips/<int:pk>/publish", views.tip_publish_view, name="tip-publish"),
    path("tips/<int:pk>/photo.jpg", views.tip_photo, name="tip-photo"),
]

"""Notice pages (included at the site root): the officers' pages under `notices/`, their card
under `me/`, the stairwell poster of an area, and the public pages under `p/` (included after
the tips' `p/t/` and `p/<code>/tip/`)."""

from django.urls import path

from louzhang.notices import views

urlpatterns = [
    path("notices/", views.notice_list, name="notices"),
    path("notices/new/", views.notice_new, name="notice-new"),
    path("notices/<int:pk>/", views.notice_detail, name="notice"),
    path("notices/<int:pk>/decide", views.notice_decide_view, name="notice-decide"),
    path("notices/<int:pk>/withdraw", views.notice_withdraw_view, name="notice-withdraw"),
    path("me/card/", views.card_edit, name="my-card"),
    path("me/card/photo.jpg", views.my_card_photo, name="my-card-photo"),
    path("areas/<str:code>/poster/", views.area_poster, name="area-poster"),
    path("p/cards/<int:pk>/photo.jpg", views.card_photo, name="public-card-photo"),
    path("p/<str:code>/", views.public_area, name="public-area"),
    path("p/<str:code>/notices/<int:pk>/", views.public_notice_page, name="public-notice"),
]

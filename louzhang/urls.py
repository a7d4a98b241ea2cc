from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from louzhang.api.main import api
from louzhang.api.problems import not_found_view
from louzhang.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("areas/<str:code>/", views.area_detail, name="area"),
    path("areas/<str:code>/residents.xlsx", views.area_export, name="area-export"),
    path("audit/", views.audit_log, name="audit"),
    path("search/", views.search, name="search"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/", not_found_view),
]

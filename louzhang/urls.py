from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from louzhang.accounts.views import LoginView
from louzhang.api.main import api
from louzhang.api.problems import not_found_view
from louzhang.checkpoints import views as checkpoints
from louzhang.followups import views as followups
from louzhang.gates import views as gates
from louzhang.notifications import views as notifications
from louzhang.registry import views as registry
from louzhang.web import pwa, views

urlpatterns = [
    path("", views.home, name="home"),
    path("manifest.webmanifest", pwa.manifest, name="pwa-manifest"),
    path("sw.js", pwa.service_worker, name="pwa-worker"),
    path("offline/", pwa.offline_page, name="pwa-offline"),
    path("field/visit/", pwa.field_visit, name="field-visit"),
    path("field/check-in/", pwa.field_check_in, name="field-check-in"),
    path("field/queue/", pwa.field_queue, name="field-queue"),
    path("areas/<str:code>/", views.area_detail, name="area"),
    path("areas/<str:code>/residents.xlsx", views.area_export, name="area-export"),
    path("audit/", views.audit_log, name="audit"),
    path("exports/<int:pk>/", views.export_detail, name="export"),
    path("exports/<int:pk>/residents.xlsx", views.export_download, name="export-download"),
    path("search/", views.search, name="search"),
    path("today/", views.today, name="today"),
    path("vehicles/<str:plate>/", views.vehicle_page, name="vehicle"),
    path("areas/<str:code>/vehicles/", views.vehicle_register_view, name="vehicle-register"),
    path("areas/<str:code>/assign/", followups.area_assign, name="area-assign"),
    path("followups/", followups.followup_list, name="followups"),
    path("followups/<int:pk>/", followups.followup_detail, name="followup"),
    path("followups/<int:pk>/acknowledge", followups.followup_acknowledge_view, name="followup-acknowledge"),
    path("followups/<int:pk>/close", followups.followup_close_view, name="followup-close"),
    path("followups/<int:pk>/reassign", followups.followup_reassign_view, name="followup-reassign"),
    path("imports/", registry.imports, name="imports"),
    path("imports/<int:pk>/", registry.import_detail, name="import"),
    path("imports/<int:pk>/rejects.csv", registry.import_rejects, name="import-rejects"),
    path("gates/", views.gate_list, name="gates"),
    path("checkpoints/<str:code>/", checkpoints.checkpoint_page, name="checkpoint"),
    path("key-regions/", checkpoints.key_regions, name="key-regions"),
    path("areas/<str:code>/passes/", gates.pass_sheet, name="pass-sheet"),
    path("gates/<str:code>/", gates.gate_page, name="gate"),
    path("gates/<str:code>/live", gates.gate_live, name="gate-live"),
    path("checkpoints/<str:code>/live", checkpoints.checkpoint_live, name="checkpoint-live"),
    path("inbox/", notifications.inbox, name="inbox"),
    path("inbox/read", notifications.inbox_read, name="inbox-read"),
    path("deliveries/", notifications.deliveries, name="deliveries"),
    path("deliveries/<int:pk>/send-again", notifications.delivery_retry, name="delivery-retry"),
    path("channels/", notifications.channels, name="channels"),
    path("channels/<int:pk>/toggle", notifications.channel_toggle, name="channel-toggle"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("louzhang.stats.urls")),
    path("", include("louzhang.screening.urls")),
    path("", include("louzhang.observation.urls")),
    path("", include("louzhang.duty.urls")),
    path("", include("louzhang.duty.rosters_urls")),
    path("", include("louzhang.disinfection.urls")),
    path("", include("louzhang.tips.urls")),  # before notices: /p/t/ is tips', /p/<code>/ the compound's
    path("", include("louzhang.notices.urls")),
    path("", include("louzhang.breakglass.urls")),
    path("", include("louzhang.retention.urls")),
    path("api/v1/", api.urls),
    re_path(r"^api/", not_found_view),
]

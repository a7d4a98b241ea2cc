"""Pages of the rosters (排班) and reassignments (下沉), included at the site root."""

from django.urls import path

from louzhang.duty import reassign_views, roster_views

urlpatterns = [
    path("rosters/", roster_views.rosters, name="rosters"),
    path("rosters/shifts/<int:pk>/remove", roster_views.roster_shift_remove, name="roster-shift-remove"),
    path("rosters/<str:kind>/<str:code>/", roster_views.roster_post, name="roster-post"),
    path("reassignments/", reassign_views.reassignments, name="reassignments"),
    path("reassignments/units/<str:code>/", reassign_views.reassignments_unit, name="reassignments-unit"),
    path("reassignments/units/<str:code>/new/", reassign_views.reassignment_new, name="reassignment-new"),
    path("reassignments/<int:pk>/", reassign_views.reassignment_detail, name="reassignment"),
    path("reassignments/<int:pk>/cancel", reassign_views.reassignment_cancel_view, name="reassignment-cancel"),
]

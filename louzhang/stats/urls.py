"""The commanders' figures: the dashboard (`views`) and the daily report (`report_views`)."""

from louzhang.stats import report_views, views

urlpatterns = [*views.urlpatterns, *report_views.urlpatterns]

"""The commanders' figures: the dashboard (`views`), the daily report (`report_views`) and the
times each commander's daily summary is sent (`delivery_views`)."""

from louzhang.stats import delivery_views, report_views, views

urlpatterns = [*views.urlpatterns, *report_views.urlpatterns, *delivery_views.urlpatterns]

"""The residents' page on what is kept of their data, why and for how long (`/privacy/`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from louzhang.core.public import PAGE_RATE, page_limited, public_page
from louzhang.retention.policy import Action
from louzhang.retention.selectors import last_purge, policy_entries


@require_safe
@public_page
def privacy(request: HttpRequest) -> HttpResponse:
    limited = page_limited(request, "public-page", PAGE_RATE)
    if limited:
        return limited
    return render(request, "retention/privacy.html", {
        "deleted": policy_entries(Action.DELETE),
        "anonymised": policy_entries(Action.ANONYMISE),
        "kept": policy_entries(Action.KEEP),
        "last": last_purge(),
    })

"""The residents' page on what is kept of their data, why and for how long (`/privacy/`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from louzhang.core.public import Rate, address_of, public_page, rate_wait
from louzhang.retention.policy import Action
from louzhang.retention.selectors import last_purge, policy_entries

#: as the other public pages (`notices.views.PAGE_RATE`)
PAGE_RATE = Rate(120, 60)


@require_safe
@public_page
def privacy(request: HttpRequest) -> HttpResponse:
    wait = rate_wait("public-page", address_of(request), PAGE_RATE)
    if wait:
        response = render(request, "retention/privacy_limited.html", {"wait": wait}, status=429)
        response["Retry-After"] = str(wait)
        return response
    return render(request, "retention/privacy.html", {
        "deleted": policy_entries(Action.DELETE),
        "anonymised": policy_entries(Action.ANONYMISE),
        "kept": policy_entries(Action.KEEP),
        "last": last_purge(),
    })

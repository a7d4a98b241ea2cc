"""The installable app (楼长 on the phone's home screen): its manifest, its service worker, the
page shown offline for a page the phone does not keep, and the field pages that work from the
phone's offline pack (`GET /api/v1/offline`) — the visit form, the check-in form and the queue.

The worker's source is a static file (`louzhang/js/sw.js`); this view serves it from the site's
root (scope `/`) with the list of assets to keep and a cache version derived from their
contents, so a release that changes any of them replaces the phone's cache."""

from __future__ import annotations

import hashlib
import json
from functools import cache

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control

from louzhang.observation.models import Symptom
from louzhang.registry.care import CareTag
from louzhang.screening.models import Mode

#: the static files every offline page needs (paths under a static directory)
ASSETS = (
    "louzhang/css/louzhang.css",
    "louzhang/favicon.svg",
    "louzhang/vendor/htmx-2.0.11.min.js",
    "louzhang/vendor/jsqr-1.4.0.js",
    "louzhang/js/actions.js",
    "louzhang/js/gate-scan.js",
    "louzhang/js/offline.js",
    "louzhang/js/field.js",
    "louzhang/icons/icon-192.png",
    "louzhang/icons/icon-512.png",
    "louzhang/icons/maskable-192.png",
    "louzhang/icons/maskable-512.png",
)
WORKER_SOURCE = "louzhang/js/sw.js"
#: the brand colour of the style sheet (`--brand`)
THEME_COLOUR = "#1f5fa8"


def _read(path: str) -> bytes:
    found = finders.find(path)
    if not found or isinstance(found, list):
        raise FileNotFoundError(path)
    with open(found, "rb") as f:
        return f.read()


@cache
def worker_script() -> str:
    """The worker's source with its asset list and a version: the hash of every asset and of
    the source itself (read once per process: a release restarts the server)."""
    digest = hashlib.sha256()
    for path in (*ASSETS, WORKER_SOURCE):
        digest.update(path.encode())
        digest.update(_read(path))
    source = _read(WORKER_SOURCE).decode()
    assets = [static(p) for p in ASSETS]
    return (source.replace("__LZ_VERSION__", digest.hexdigest()[:16])
            .replace('["__LZ_ASSETS__"]', json.dumps(assets)))


@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    """`/sw.js`: the service worker, its scope the whole site."""
    response = HttpResponse(worker_script(), content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


def manifest(request: HttpRequest) -> JsonResponse:
    """`/manifest.webmanifest`: what the phone needs to install the app."""
    icons = [{"src": static(f"louzhang/icons/icon-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png",
              "purpose": "any"} for n in (192, 512)]
    icons += [{"src": static(f"louzhang/icons/maskable-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png",
               "purpose": "maskable"} for n in (192, 512)]
    body = {
        "name": "楼长", "short_name": "楼长", "lang": "zh-Hans", "dir": "ltr",
        "description": _("Police building wardens"),
        "start_url": "/", "scope": "/", "id": "/", "display": "standalone",
        "theme_color": THEME_COLOUR, "background_color": "#f4f6f8", "icons": icons,
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    response["Cache-Control"] = "no-cache"
    return response


def offline_page(request: HttpRequest) -> HttpResponse:
    """What the worker shows for a page the phone does not keep: the pages it does keep are
    listed by the page's script from the phone's own records (no one's data in this page)."""
    return render(request, "web/offline.html")


@login_required
def field_visit(request: HttpRequest) -> HttpResponse:
    """The visit form that works without signal: households and members come from the pack."""
    return render(request, "web/field_visit.html", {
        "modes": Mode.choices, "symptoms": Symptom.choices, "care": CareTag.choices,
    })


@login_required
def field_check_in(request: HttpRequest) -> HttpResponse:
    """The check-in form that works without signal: the observations come from the pack."""
    return render(request, "web/field_check_in.html", {"symptoms": Symptom.choices})


@login_required
def field_queue(request: HttpRequest) -> HttpResponse:
    """The records kept on this phone: waiting, sent with the server's answer, or rejected."""
    return render(request, "web/field_queue.html")

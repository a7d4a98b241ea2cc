"""The `/api/v1/` API: one NinjaAPI, a router per domain app."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja import Schema
from ninja.renderers import JSONRenderer

from louzhang import __version__
from louzhang.api import problems
from louzhang.api.openapi import DocumentedAPI
from louzhang.api.security import AnonThrottle, SessionAuth, TokenAuth, UserThrottle


class UnicodeJSONRenderer(JSONRenderer):
    """Chinese names as themselves, not \\u escapes."""

    json_dumps_params = {"ensure_ascii": False}


api = DocumentedAPI(
    renderer=UnicodeJSONRenderer(),
    title="Louzhang API",
    version="1",
    description=(
        "Device and integration API of Louzhang (楼长). Bearer tokens from `louzhang token create`, or "
        "the browser's log-in session (the offline app's pages: a POST also needs `X-CSRFToken`); "
        "errors are RFC 9457 problem details; everything is limited to the user's jurisdiction."
    ),
    urls_namespace="api-v1",
    # a device's token, else the browser's session (the pages of the offline app)
    auth=[TokenAuth(), SessionAuth()],
    throttle=[AnonThrottle(), UserThrottle()],
    docs_url="/docs",
)
problems.install(api)


class Health(Schema):
    status: str
    version: str
    time: str


@api.get("/health", auth=None, response=Health, tags=["meta"])
def health(request: HttpRequest) -> dict[str, str]:
    """Liveness: no token needed."""
    return {"status": "ok", "version": __version__, "time": timezone.now().isoformat()}


from louzhang.api.areas import router as areas_router  # noqa: E402
from louzhang.api.offline import router as offline_router  # noqa: E402
from louzhang.checkpoints.api import router as checkpoints_router  # noqa: E402
from louzhang.disinfection.api import router as disinfection_router  # noqa: E402
from louzhang.duty.api import router as duty_router  # noqa: E402
from louzhang.gates.api import router as gates_router  # noqa: E402
from louzhang.observation.api import router as observation_router  # noqa: E402
from louzhang.registry.api import router as registry_router  # noqa: E402
from louzhang.screening.api import router as screening_router  # noqa: E402
from louzhang.stats.api import router as stats_router  # noqa: E402
from louzhang.tips.api import router as tips_router  # noqa: E402

api.add_router("/", areas_router)
api.add_router("/", registry_router)
api.add_router("/", gates_router)
api.add_router("/", checkpoints_router)
api.add_router("/", screening_router)
api.add_router("/", observation_router)
api.add_router("/", tips_router)
api.add_router("/", duty_router)
api.add_router("/", disinfection_router)
api.add_router("/", stats_router)
api.add_router("/", offline_router)

"""A record typed on a page (the gate's, the checkpoint's) is checked against the schema a device
posts, but its errors are told in the words of the page: "at most 50 characters" beside the
field, never a schema's field name (`pass_code`) or the validator's English."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from pydantic import BaseModel, ValidationError

#: the words for a location no field of the page shows (the page makes these itself)
_PLACES = {"at": gettext_lazy("Time"), "client_id": gettext_lazy("Record"), "gate": gettext_lazy("Gate"),
           "checkpoint": gettext_lazy("Checkpoint")}


def record_errors(schema: type[BaseModel], record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The errors `schema` finds in `record`, as `{"loc": [...], "msg": ...}` in words a person
    reads (for `PageForm.add_record_errors`); [] when it is valid."""
    try:
        schema.model_validate(record)
    except ValidationError as exc:
        return [{"loc": list(e["loc"]), "msg": _in_words(e)} for e in exc.errors(include_url=False)]
    return []


def _in_words(e: Any) -> str:
    kind, ctx, loc = e["type"], e.get("ctx") or {}, [str(p) for p in e["loc"]]
    if "temperature" in loc:
        return _("A temperature is 34.0 to 43.0 °C, typed like 36.5.")
    if kind == "blank":
        said = _("Nothing visible was typed here.")
    elif kind in ("missing", "string_too_short"):
        said = _("This field is required.")
    elif kind == "string_too_long":
        n = int(ctx.get("max_length", 0))
        said = ngettext("At most %(n)d character.", "At most %(n)d characters.", n) % {"n": n}
    elif kind == "too_long":
        n = int(ctx.get("max_length", 0))
        said = ngettext("At most %(n)d entry.", "At most %(n)d entries.", n) % {"n": n}
    elif kind == "control_character":
        said = _("Contains an invisible control character: type it again without it.")
    elif kind in ("literal_error", "enum"):
        said = _("Choose one of the choices offered.")
    elif "datetime" in kind or kind.startswith("time") or loc[:1] == ["at"]:
        said = _("Not a possible time: check the phone's date and clock.")
    else:
        said = _("This cannot be used as typed: check it.")
    place = _PLACES.get(loc[0]) if loc else None
    if place is not None and len(loc) == 1:
        return _("%(place)s: %(problem)s") % {"place": place, "problem": said}
    return said

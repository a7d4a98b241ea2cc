"""`GET /api/v1/stats`: the day's figures of an area, the same numbers as the dashboard and 日报."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["figures"])

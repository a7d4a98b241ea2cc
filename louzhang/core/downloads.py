"""Files handed to the browser as downloads (rejects files, background exports)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from django.http import FileResponse


def attachment(path: Path, filename: str, content_type: str) -> FileResponse:
    """`path` as a download named `filename` (Chinese names kept, RFC 5987 encoded)."""
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response

"""Pictures people send (a tip's photo, a warden's portrait): checked to be a picture, turned
upright, shrunk and written again as a plain JPEG — so nothing of the original file survives:
no GPS position, no camera serial, no hidden payload.

Pillow does the work; a file it cannot read, or one that would unpack to more pixels than a
phone camera takes (a decompression bomb), is refused with a reason.
"""

from __future__ import annotations

import io
import logging
import warnings
from typing import IO

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

logger = logging.getLogger("louzhang.images")

#: a 200-megapixel camera; anything larger is refused before it is decoded
MAX_PIXELS = 200_000_000
#: what a phone may send (a 48-megapixel JPEG is 8–15 MB)
MAX_UPLOAD_BYTES = 15 * 1024 * 1024


class ImageError(ValueError):
    """A file that is not a picture we keep, with the reason in words."""


def image_clean(data: IO[bytes], *, max_side: int = 1600, quality: int = 80) -> bytes:
    """The picture in `data`, upright, at most `max_side` pixels on its longer side, as a JPEG
    with no metadata. Raises ImageError."""
    head = data.read(MAX_UPLOAD_BYTES + 1)
    if len(head) > MAX_UPLOAD_BYTES:
        raise ImageError(_("The picture is larger than %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(head)) as image:
                if image.format not in {"JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"}:
                    raise ImageError(_("Send a photo (JPEG or PNG)."))
                if image.width * image.height > MAX_PIXELS:
                    raise ImageError(_("The picture is too large."))
                image.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced size
                upright = ImageOps.exif_transpose(image)
                picture = upright.convert("RGB")
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(_("This file is not a picture we can read.")) from None
    except (OSError, ValueError, SyntaxError):  # truncated or corrupt
        raise ImageError(_("This file is not a picture we can read.")) from None
    picture.thumbnail((max_side, max_side))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=quality, optimize=True)  # no exif=, no icc: nothing carried over
    return out.getvalue()


def image_store(folder: str, content: bytes) -> str:
    """Keep a cleaned picture under the media folder; its path relative to it."""
    name = f"{folder}/{get_random_string(24)}.jpg"
    return default_storage.save(name, ContentFile(content))


def image_discard(path: str) -> None:
    """Remove a kept picture whose record was not stored (or no longer refers to it); a file
    that cannot be removed is logged, never an error of the caller."""
    if not path:
        return
    try:
        default_storage.delete(path)
    except OSError:
        logger.warning("could not delete the picture %s", path)


def image_open(path: str) -> IO[bytes]:
    return default_storage.open(path, "rb")

"""Uploaded media (product pictures, training figures, return photos) in every mode.

Where the files live is a setting (`AISLE_MEDIA_STORAGE`, read by
`retail.storage_settings`):

- ``local`` (the default, for a one-machine install): files under `MEDIA_ROOT`,
  served by Aisle itself at `/media/` — with `DEBUG` on or off — to signed-in users
  only, through :func:`serve`, which asks `retail.access.may_see_media`. Return photos
  are for staff; catalogue and training pictures for anyone signed in (kiosks too).
- ``s3`` (for many machines): an S3-compatible store through django-storages, with
  short timeouts; the store serves the files by signed, expiring URLs.

Thumbnails (:func:`thumbnail_url`) are made once per picture and size, saved beside
the originals through the same storage, so the tablet loads pictures sized for it.
"""

from __future__ import annotations

import io
import logging
from pathlib import PurePosixPath

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from django.views.static import serve as static_serve

from retail import access

logger = logging.getLogger(__name__)

#: Sizes (CSS pixels × 2 for the tablets' screens) thumbnails are made in.
THUMB_SIZES = (96, 160, 192, 320)
THUMB_PREFIX = "thumbs"
THUMB_CACHE_SECONDS = 24 * 3600


def served_locally() -> bool:
    """Does Aisle serve `/media/` itself (the local storage)?"""
    from django.core.files.storage import FileSystemStorage

    return isinstance(default_storage, FileSystemStorage)


@require_GET
def serve(request: HttpRequest, path: str) -> HttpResponse:
    """One uploaded file, to whoever `access.may_see_media` lets see it."""
    if not getattr(request.user, "is_authenticated", False):
        raise Http404  # nothing about which files exist, to anyone signed out
    if not access.may_see_media(request, path):
        raise PermissionDenied
    response = static_serve(request, path, document_root=settings.MEDIA_ROOT)
    response["X-Content-Type-Options"] = "nosniff"
    if access.is_catalogue_media(path):  # no personal data: the tablet may keep it
        response["Cache-Control"] = "private, max-age=86400"
        response.aisle_cacheable = True
    return response


def _thumb_name(name: str, size: int) -> str:
    return str(PurePosixPath(THUMB_PREFIX, str(size), name).with_suffix(".webp"))


#: Thumbnails this process knows exist (they never change): no cache round trip.
_known: dict[str, str] = {}
KNOWN_MAX = 20_000


def thumbnail_url(picture, size: int) -> str:
    """The URL of the picture (a file field's value or a stored name) scaled to fit
    `size`×`size`, made on first use; the original's URL when it cannot be made;
    "" without a picture."""
    name = picture if isinstance(picture, str) else (getattr(picture, "name", "") or "")
    if not name:
        return ""
    size = min(THUMB_SIZES, key=lambda s: (s < size, abs(s - size)))
    thumb = _thumb_name(name, size)
    if thumb in _known:
        return _known[thumb]
    key = f"thumb:{thumb}"
    try:
        if cache.get(key) is None:
            if not default_storage.exists(thumb):
                _make_thumbnail(name, thumb, size)
            cache.set(key, 1, THUMB_CACHE_SECONDS)
        url = default_storage.url(thumb)
        if served_locally():  # signed URLs of a remote store expire: not kept
            if len(_known) >= KNOWN_MAX:
                _known.clear()
            _known[thumb] = url
        return url
    except Exception as exc:  # a missing or broken original, a storage outage: the original
        logger.warning("media: no thumbnail for a picture (%s)", type(exc).__name__)
        try:
            return default_storage.url(name)
        except Exception:
            return ""


def _make_thumbnail(name: str, thumb: str, size: int) -> None:
    from PIL import Image, ImageOps

    with default_storage.open(name, "rb") as original:
        image = Image.open(original)
        image = ImageOps.exif_transpose(image)
        image.thumbnail((size, size))
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        out = io.BytesIO()
        image.save(out, "WEBP", quality=82, method=4)
    if not default_storage.exists(thumb):  # two requests at once: the first one wins
        default_storage.save(thumb, ContentFile(out.getvalue()))

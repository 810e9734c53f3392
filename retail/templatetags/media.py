"""`{% load media %}`: `{{ product.image|thumb:192 }}`, the URL of a picture sized for
the tablet (`retail.media.thumbnail_url`)."""

from __future__ import annotations

from django import template

from retail.media import thumbnail_url

register = template.Library()


@register.filter
def thumb(picture, size) -> str:
    try:
        size = int(size)
    except (TypeError, ValueError):
        size = 192
    return thumbnail_url(picture, size)

"""QR codes drawn offline as inline SVG (segno): no image request, no CDN.

{% load qr %}{{ "AISLE-ORDER:"|add:order.order_ref|qr_svg }}
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def qr_svg(payload, scale: int = 4) -> SafeString:
    """The QR code of `payload` as an `<svg>` element (the payload is not in the markup)."""
    import segno

    text = str(payload or "")
    if not text:
        return SafeString("")
    svg = segno.make(text, error="m").svg_inline(
        scale=int(scale), border=2, svgclass="qr", lineclass="qrline", omitsize=False
    )
    return mark_safe(svg)  # noqa: S308 - segno's markup: the payload is encoded, never echoed

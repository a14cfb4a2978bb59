"""QR codes as inline SVG markup (segno, no XML declaration, an accessible title). segno escapes the
title; the data is only encoded in the image, never written out as text, so the markup is safe to embed."""

from __future__ import annotations

import io

import segno
from django.utils.safestring import SafeString, mark_safe


def qr_svg(data: str, *, title: str, scale: int = 5) -> SafeString:
    buffer = io.BytesIO()
    segno.make(data, error="m").save(
        buffer, kind="svg", scale=scale, xmldecl=False, svgns=True, title=title, border=2
    )
    return mark_safe(buffer.getvalue().decode())  # noqa: S308 - segno's own markup, title escaped by segno

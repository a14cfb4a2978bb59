"""A minimal, strict check of uploaded logos without an imaging library (Pillow is not in our stack):
the file must start like a PNG, JPEG, GIF or WebP and its header must give sane dimensions. The type
comes from the bytes, never from the browser's claim or the file name; SVG (which can carry script) and
everything else is refused.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from django.utils.translation import gettext as _

MAX_SIDE = 4096


class NotAnImage(ValueError):
    pass


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int


def _png(data: bytes) -> tuple[int, int]:
    if data[12:16] != b"IHDR" or len(data) < 24:
        raise NotAnImage(_("The PNG file is damaged."))
    return struct.unpack(">II", data[16:24])


def _gif(data: bytes) -> tuple[int, int]:
    if len(data) < 10:
        raise NotAnImage(_("The GIF file is damaged."))
    return struct.unpack("<HH", data[6:10])


def _jpeg(data: bytes) -> tuple[int, int]:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            raise NotAnImage(_("The JPEG file is damaged."))
        marker = data[index + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            index += 2
            continue
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        # Start-of-frame markers carry the size (C4 = Huffman tables, C8 = reserved, CC = arithmetic).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    raise NotAnImage(_("The JPEG file has no image size."))


def _webp(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return width, height
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    raise NotAnImage(_("The WebP file is damaged."))


def inspect_image(data: bytes) -> ImageInfo:
    """The type and size of a PNG, JPEG, GIF or WebP image; NotAnImage with a reason otherwise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        kind, (width, height) = "image/png", _png(data)
    elif data.startswith(b"\xff\xd8\xff"):
        kind, (width, height) = "image/jpeg", _jpeg(data)
    elif data[:6] in (b"GIF87a", b"GIF89a"):
        kind, (width, height) = "image/gif", _gif(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind, (width, height) = "image/webp", _webp(data)
    else:
        raise NotAnImage(_("Upload a PNG, JPEG, GIF or WebP image (SVG and other files are not accepted)."))
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise NotAnImage(
            _("The image must be between 1 and %(max)s pixels wide and high.") % {"max": MAX_SIDE}
        )
    return ImageInfo(content_type=kind, width=width, height=height)

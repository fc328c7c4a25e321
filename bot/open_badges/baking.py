"""Baking: the assertion embedded in the badge image, as Open Badges specifies for PNG —
an `iTXt` chunk with the keyword `openbadges` (uncompressed), before the image data."""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"openbadges"


class NotAPng(ValueError):
    """The badge image is not a PNG this module can bake."""


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def bake(png: bytes, text: str) -> bytes:
    """`png` with `text` in an `openbadges` iTXt chunk (any earlier one replaced)."""
    if not png.startswith(SIGNATURE):
        raise NotAPng("not a PNG file")
    # iTXt: keyword, NUL, compression flag 0, method 0, empty language, NUL, empty
    # translated keyword, NUL, then the UTF-8 text.
    itxt = _chunk(b"iTXt", KEYWORD + b"\x00\x00\x00" + b"\x00" + b"\x00" + text.encode())
    out = [SIGNATURE]
    position = len(SIGNATURE)
    inserted = False
    while position < len(png):
        if position + 8 > len(png):
            raise NotAPng("truncated PNG chunk")
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        end = position + 12 + length
        chunk = png[position:end]
        if kind == b"iTXt" and chunk[8:].startswith(KEYWORD + b"\x00"):
            position = end
            continue  # an earlier baking: replaced
        if kind == b"IDAT" and not inserted:
            out.append(itxt)
            inserted = True
        out.append(chunk)
        position = end
    if not inserted:
        raise NotAPng("PNG without image data")
    return b"".join(out)

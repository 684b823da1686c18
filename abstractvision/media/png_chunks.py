"""Set text chunks of an existing PNG without decoding or re-encoding its pixels.

The runner adds the job's record to the PNG a backend returned: chunks with the same keyword are
dropped and the new ones go before the first ``IDAT``, where Pillow and the web UIs put them (so
``Image.open(f).info`` has them without ``load()``), each with its CRC (``zlib.crc32``). Latin-1 text
goes in ``tEXt``, anything else in uncompressed UTF-8 ``iTXt``, as Pillow does.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_TYPES = (b"tEXt", b"iTXt", b"zTXt")


def set_png_text(png: bytes, texts: Mapping[str, str]) -> bytes:
    """``png`` with a text chunk per ``texts`` item, replacing chunks that had the same keyword."""
    if not png.startswith(SIGNATURE):
        raise ValueError("not a PNG file (bad signature)")
    out, pos, inserted = [SIGNATURE], len(SIGNATURE), False
    while pos + 12 <= len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        end = pos + 12 + length
        if kind in _TEXT_TYPES and _keyword(png[pos + 8 : end - 4]) in texts:
            pos = end
            continue
        if kind in (b"IDAT", b"IEND") and not inserted:
            out.extend(_text_chunk(key, text) for key, text in texts.items())
            inserted = True
        out.append(png[pos:end])
        pos = end
    return b"".join(out)


def _keyword(data: bytes) -> str:
    return data.split(b"\0", 1)[0].decode("latin-1")


def _text_chunk(keyword: str, text: str) -> bytes:
    try:
        kind, body = b"tEXt", keyword.encode("latin-1") + b"\0" + text.encode("latin-1")
    except UnicodeEncodeError:
        kind, body = b"iTXt", keyword.encode("latin-1") + b"\0\0\0\0\0" + text.encode("utf-8")
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

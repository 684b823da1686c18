"""Generated files kept in memory so that ``url`` answers can point at them."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict

from ..media.mime import EXTENSIONS


class MediaStore:
    """The last ``capacity`` files, each under an unguessable name (the name is the credential, like a
    signed URL, so downloads need no API key)."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, data: bytes, mime_type: str) -> str:
        name = f"{secrets.token_hex(16)}{EXTENSIONS.get(mime_type, '')}"
        with self._lock:
            self._items[name] = (data, mime_type)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return name

    def get(self, name: str) -> tuple[bytes, str] | None:
        with self._lock:
            return self._items.get(name)

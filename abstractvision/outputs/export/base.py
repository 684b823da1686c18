"""What every export format shares: a writer fed one sample at a time, and the rows it writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .selection import Sample


class FormatWriter:
    """Writes samples into ``folder`` (a fresh staging folder); ``close()`` finishes the last file.

    ``media`` is what the export holds, ``image`` or ``video``; a ``one_media`` format (its readers expect
    one ``image`` or ``video`` column) refuses a selection of both. ``shard_size`` is the number of samples
    per file for the sharded formats.
    """

    one_media = False

    def __init__(self, folder: Path, columns: dict[str, str], shard_size: int, media: str = "image") -> None:
        self.folder, self.columns, self.shard_size, self.media = folder, columns, shard_size, media

    def add(self, sample: Sample, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Flush and close the files still open."""


def full_row(columns: dict[str, str], sample: Sample, json_text: bool = False) -> dict[str, Any]:
    """Every column of the export for ``sample`` (``None`` where the job has no such value), so that
    readers that infer a schema from the first rows see every column. ``json_text`` writes ``json``
    columns (``angles``, ``extra``: lists and objects of mixed types) as JSON text, for readers that need
    one type per column (Arrow)."""
    row = {name: sample.record.get(name) for name in columns}
    if json_text:
        for name, kind in columns.items():
            if kind == "json" and row[name] is not None:
                row[name] = json.dumps(row[name], sort_keys=True)
    return row


def json_line(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n"

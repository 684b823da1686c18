"""``webdataset``: tar shards of ``shard_size`` samples, each ``<key>.<ext>`` plus ``<key>.json`` (its
row), that the ``webdataset`` library streams. Members are written with fixed owners and times, so the
same selection gives byte-identical shards."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from .base import FormatWriter, full_row, json_line
from .selection import Sample


class WebDatasetWriter(FormatWriter):
    def __init__(self, folder: Path, columns: dict[str, str], shard_size: int, media: str = "image") -> None:
        super().__init__(folder, columns, shard_size, media)
        self.shard: tarfile.TarFile | None = None
        self.shards = self.in_shard = 0

    def add(self, sample: Sample, data: bytes) -> None:
        if self.shard is None or self.in_shard >= self.shard_size:
            self.close()
            self.shard = tarfile.open(self.folder / f"shard-{self.shards:05d}.tar", "w", format=tarfile.USTAR_FORMAT)
            self.shards, self.in_shard = self.shards + 1, 0
        key = sample.key.replace(".", "_")  # webdataset splits a member's name at its first dot (view az22.5_el0)
        self._member(f"{key}{sample.suffix}", data)
        self._member(f"{key}.json", json_line(full_row(self.columns, sample)).encode())
        self.in_shard += 1

    def _member(self, name: str, data: bytes) -> None:
        assert self.shard is not None
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), 0o644, 0
        self.shard.addfile(info, io.BytesIO(data))

    def close(self) -> None:
        if self.shard is not None:
            self.shard.close()
            self.shard = None

"""``imagefolder``: ``images/<key>.png`` plus a ``metadata.jsonl`` row per image, the layout that
``datasets.load_dataset("imagefolder", data_dir=...)`` loads with every column. Videos go to
``videos/<key>.mp4`` with the same rows, the layout of ``load_dataset("videofolder", ...)``."""

from __future__ import annotations

from pathlib import Path

from .base import FormatWriter, full_row, json_line
from .selection import Sample


class ImageFolderWriter(FormatWriter):
    one_media = True

    def __init__(self, folder: Path, columns: dict[str, str], shard_size: int, media: str = "image") -> None:
        super().__init__(folder, columns, shard_size, media)
        (folder / f"{media}s").mkdir()
        self.metadata = (folder / "metadata.jsonl").open("w", encoding="utf-8")

    def add(self, sample: Sample, data: bytes) -> None:
        name = f"{self.media}s/{sample.key}{sample.suffix}"
        (self.folder / name).write_bytes(data)
        self.metadata.write(json_line({"file_name": name, **full_row(self.columns, sample, json_text=True)}))

    def close(self) -> None:
        self.metadata.close()

"""``captions``: each image with a same-named ``.txt`` holding its prompt, side by side in one folder,
the layout LoRA and fine-tuning trainers read."""

from __future__ import annotations

from .base import FormatWriter
from .selection import Sample


class CaptionsWriter(FormatWriter):
    def add(self, sample: Sample, data: bytes) -> None:
        (self.folder / f"{sample.key}{sample.suffix}").write_bytes(data)
        (self.folder / f"{sample.key}.txt").write_text(str(sample.record.get("prompt") or ""), encoding="utf-8")

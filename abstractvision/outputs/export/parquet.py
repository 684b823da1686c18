"""``parquet``: ``data-<n>.parquet`` shards of ``shard_size`` rows, each row an image (bytes, as the
``datasets`` ``Image`` feature) and its parameters and labels as typed columns. A video export has a
``video`` column instead (the file's bytes, the ``Video`` feature). Rows are written in small record
batches, so memory stays bounded by one batch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...errors import BackendUnavailableError
from .base import FormatWriter, full_row
from .selection import Sample

BATCH_ROWS = 64


class ParquetWriter(FormatWriter):
    one_media = True

    def __init__(self, folder: Path, columns: dict[str, str], shard_size: int, media: str = "image") -> None:
        super().__init__(folder, columns, shard_size, media)
        try:
            import pyarrow as pa
        except ImportError:
            raise BackendUnavailableError(
                "the parquet export needs pyarrow: pip install 'abstractvision[datasets]'"
            ) from None
        self.pa = pa
        types = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string(), "json": pa.string()}
        fields = [pa.field(media, pa.struct({"bytes": pa.binary(), "path": pa.string()}))]
        fields += [pa.field(name, types[kind]) for name, kind in columns.items()]
        features = {"info": {"features": {media: {"_type": media.capitalize()}}}}  # datasets' Image / Video
        self.schema = pa.schema(fields, metadata={"huggingface": json.dumps(features)})
        self.batch: list[dict[str, Any]] = []
        self.writer: Any = None
        self.shards = self.in_shard = 0

    def add(self, sample: Sample, data: bytes) -> None:
        row = full_row(self.columns, sample, json_text=True)
        self.batch.append({self.media: {"bytes": data, "path": f"{sample.key}{sample.suffix}"}, **row})
        self.in_shard += 1
        if len(self.batch) >= BATCH_ROWS or self.in_shard >= self.shard_size:
            self._flush()

    def _flush(self) -> None:
        if self.batch:
            if self.writer is None:
                import pyarrow.parquet as pq

                path = self.folder / f"data-{self.shards:05d}.parquet"
                self.writer = pq.ParquetWriter(path, self.schema)
                self.shards += 1
            self.writer.write_batch(self.pa.RecordBatch.from_pylist(self.batch, schema=self.schema))
            self.batch = []
        if self.in_shard >= self.shard_size:
            self._close_shard()

    def _close_shard(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        self.in_shard = 0

    def close(self) -> None:
        self._flush()
        self._close_shard()

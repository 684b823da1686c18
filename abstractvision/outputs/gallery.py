"""A static HTML gallery of a run: ``index.html``, ``items.js`` and ``thumbs/``, opened from disk, no server.

Built from the manifest like an export (the same selection and file checks): one item per file, with a
thumbnail, its row (parameters, seed, labels) and links to the file and its sidecar. A video's thumbnail is
its middle frame, and its item plays it; a view set is one item per view, and ``view`` is a filter. The page filters by
every swept parameter that has a few values (``MAX_FACET_VALUES``), searches prompts, opens an item's full
record on click, and adds thumbnails as the page scrolls (``loading="lazy"``, 200 at a time), so 10,000
items load quickly. Its data is a script (``items.js``), not JSON fetched at run time, because browsers do
not let a ``file://`` page fetch files.
"""

from __future__ import annotations

import html
import io
import json
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from PIL import Image
from tqdm.auto import tqdm

from ..media.frames import middle_frame
from ..media.images import square_thumbnail
from ..pipeline.run_dir import RunDir
from .export import Selection, read_checked
from .export.selection import Sample
from .files import staged_folder

MAX_FACET_VALUES = 50
NOT_FACETS = ("job_id", "prompt", "negative_prompt")
THUMB_BACKGROUND = (238, 238, 238)


def build_gallery(
    run_dir: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    where: Mapping[str, Any] | None = None,
    thumb_size: int = 160,
    overwrite: bool = True,
    progress: bool = True,
) -> tuple[Path, int]:
    """Write the gallery of ``run_dir``'s done jobs to ``out`` (default ``RUN_DIR/gallery``); returns
    ``(index.html, items)``. Rebuilding replaces the folder unless ``overwrite`` is false."""
    run = RunDir(run_dir)
    target = Path(out) if out is not None else run.path / "gallery"
    manifest = run.open_readonly()
    try:
        selection = Selection(manifest, run.path, "done", where or {})
        with staged_folder(target, overwrite) as staging:
            count = _write(selection, staging, target, thumb_size, progress)
    finally:
        manifest.close()
    return target / "index.html", count


def _write(selection: Selection, staging: Path, target: Path, thumb_size: int, progress: bool) -> int:
    (staging / "thumbs").mkdir()
    values: dict[str, dict[str, None]] = {}
    count = 0
    with (
        (staging / "items.js").open("w", encoding="utf-8") as script,
        tqdm(total=selection.jobs, unit="job", desc="gallery", disable=not progress) as bar,
    ):
        script.write("window.GALLERY = {items: [\n")
        for sample in selection.samples():
            bar.update(sample.first)
            (staging / "thumbs" / f"{sample.key}.jpg").write_bytes(_thumbnail(sample, thumb_size))
            script.write(json.dumps(_item(sample, target), ensure_ascii=False) + ",\n")
            for key, value in sample.record.items():
                seen = values.setdefault(key, {})
                if len(seen) <= MAX_FACET_VALUES:
                    seen.setdefault(json.dumps(value))
            count += 1
        facets = {key: [json.loads(v) for v in seen] for key, seen in values.items()
                  if key not in NOT_FACETS and 1 < len(seen) <= MAX_FACET_VALUES}  # fmt: skip
        script.write(f"], facets: {json.dumps(facets, ensure_ascii=False)}}};\n")
    page = resources.files(__package__).joinpath("gallery.html").read_text(encoding="utf-8")
    page = page.replace("__TITLE__", html.escape(selection.run_dir.name)).replace("__THUMB__", str(thumb_size))
    (staging / "index.html").write_text(page, encoding="utf-8")
    return count


def _item(sample: Sample, target: Path) -> dict[str, Any]:
    """What the page knows of one file; paths relative to the gallery's final folder."""

    def relative(path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), target.resolve())).as_posix()

    sidecar = sample.path.with_name(f"{sample.record['job_id']}.json")
    return {
        "key": sample.key,
        "thumb": f"thumbs/{sample.key}.jpg",
        "file": relative(sample.path),
        "record": relative(sidecar),
        "mime": sample.mime,
        "video": sample.video,
        "row": sample.record,
    }


def _thumbnail(sample: Sample, size: int) -> bytes:
    """A JPEG of the image, or of a video's middle frame."""
    data = read_checked(sample)
    if sample.video:
        canvas = square_thumbnail(middle_frame(sample.path), size, THUMB_BACKGROUND)
    else:
        with Image.open(io.BytesIO(data)) as image:
            canvas = square_thumbnail(image, size, THUMB_BACKGROUND)
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()

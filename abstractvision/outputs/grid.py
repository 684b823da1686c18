"""Contact sheets: a sweep's images laid out on the axes that vary, labelled, in one picture.

Works on manifest records (``Manifest.records("done")``), so it needs no model and no config: the axes
are found from the jobs themselves. Columns default to ``seed`` when seeds vary; rows are every other
varying axis combined.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from ..errors import InvalidParameterError

BACKGROUND = (255, 255, 255)
MISSING = (225, 225, 225)
TEXT = (20, 20, 20)
LABEL_CHARS = 48


@dataclass(frozen=True)
class GridCell:
    """One image and the axis values that place it."""

    path: Path
    values: Mapping[str, Any]


def cells_from_records(records: Iterable[Mapping[str, Any]], run_dir: Path) -> list[GridCell]:
    """Image outputs of manifest records, with their model, seed, task and parameters as axis values."""
    cells = []
    for record in records:
        if not record.get("output") or not str(record["output"]).lower().endswith((".png", ".jpg", ".webp")):
            continue
        job = record["params"]
        values = {"model": job.get("model"), "task": job.get("task"), "seed": job.get("seed"), **job.get("params", {})}
        cells.append(GridCell(run_dir / record["output"], values))
    return cells


def varying_axes(cells: Sequence[GridCell]) -> list[str]:
    """Keys whose value differs between cells, in first-seen order."""
    keys: dict[str, None] = {}
    for cell in cells:
        keys.update(dict.fromkeys(cell.values))
    return [k for k in keys if len({_label(cell.values.get(k)) for cell in cells}) > 1]


def choose_layout(cells: Sequence[GridCell], rows: Sequence[str] = (), cols: Sequence[str] = ()) -> tuple[list, list]:
    """Row and column axes: those asked for, else seeds across and every other varying axis down."""
    axes = varying_axes(cells)
    for name, chosen in (("--rows", rows), ("--cols", cols)):
        unknown = [k for k in chosen if k not in axes]
        if unknown:
            raise InvalidParameterError(name, f"{unknown} do not vary in this run; varying axes are {axes}")
    if not cols:
        cols = ["seed"] if "seed" in axes and "seed" not in rows else [k for k in axes if k not in rows][:1]
    if not rows:
        rows = [k for k in axes if k not in cols]
    return list(rows), list(cols)


def contact_sheet(
    cells: Sequence[GridCell], rows: Sequence[str] = (), cols: Sequence[str] = (), cell_size: int = 192
) -> Image.Image:
    """One labelled picture of ``cells`` on a ``rows`` x ``cols`` grid (empty grey where a job is missing)."""
    if not cells:
        raise InvalidParameterError("run_dir", "has no finished image jobs to put in a grid")
    rows, cols = choose_layout(cells, rows, cols)
    row_keys = _ordered({_key(cell, rows) for cell in cells})
    col_keys = _ordered({_key(cell, cols) for cell in cells})
    by_position = {(_key(cell, rows), _key(cell, cols)): cell for cell in cells}

    font = ImageFont.load_default()
    line = 14
    header = line * max(1, len(cols)) + 8
    margin = max((_text_width(font, _caption(rows, key)) for key in row_keys), default=0) + 12
    sheet = Image.new(
        "RGB", (margin + len(col_keys) * (cell_size + 4), header + len(row_keys) * (cell_size + 4)), BACKGROUND
    )
    draw = ImageDraw.Draw(sheet)
    for c, col_key in enumerate(col_keys):
        for i, text in enumerate(_caption_lines(cols, col_key)):
            draw.text((margin + c * (cell_size + 4), 4 + i * line), text, fill=TEXT, font=font)
    for r, row_key in enumerate(row_keys):
        top = header + r * (cell_size + 4)
        for i, text in enumerate(_caption_lines(rows, row_key)):
            draw.text((4, top + 4 + i * line), text, fill=TEXT, font=font)
        for c, col_key in enumerate(col_keys):
            left = margin + c * (cell_size + 4)
            cell = by_position.get((row_key, col_key))
            sheet.paste(_thumbnail(cell.path, cell_size) if cell else Image.new("RGB", (cell_size,) * 2, MISSING),
                        (left, top))  # fmt: skip
    return sheet


def _thumbnail(path: Path, size: int) -> Image.Image:
    with Image.open(path) as image:
        image = image.convert("RGB")
        scale = size / max(image.size)
        # Tiny images are enlarged without smoothing so that their pixels stay visible.
        resample = Image.Resampling.NEAREST if scale > 1 else Image.Resampling.LANCZOS
        fitted = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), resample)
    canvas = Image.new("RGB", (size, size), BACKGROUND)
    canvas.paste(fitted, ((size - fitted.width) // 2, (size - fitted.height) // 2))
    return canvas


def _key(cell: GridCell, axes: Sequence[str]) -> tuple[str, ...]:
    return tuple(_label(cell.values.get(axis)) for axis in axes)


def _label(value: Any) -> str:
    text = str(value)
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _ordered(keys: set[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Numbers in numeric order, text alphabetically."""

    def sort_key(key: tuple[str, ...]) -> tuple:
        return tuple((0, float(part), "") if _is_number(part) else (1, 0.0, part) for part in key)

    return sorted(keys, key=sort_key)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _caption_lines(axes: Sequence[str], key: tuple[str, ...]) -> list[str]:
    return [f"{axis}={value}" for axis, value in zip(axes, key, strict=True)] or [""]


def _caption(axes: Sequence[str], key: tuple[str, ...]) -> str:
    return max(_caption_lines(axes, key), key=len)


def _text_width(font: Any, text: str) -> int:
    left, _, right, _ = font.getbbox(text)
    return int(right - left)

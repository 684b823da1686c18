"""Contact sheets (XYZ plots): a sweep's images on labelled grids, from manifest records alone.

One axis across (``x``), one down (``y``) and one sheet per value of ``z``. Every image appears: a
varying axis that is not placed, and that the placed ones do not already decide (a prompt file's
labels follow its prompts), also makes sheets, one per value, and each sheet's title says which. Axis
values keep the order the sweep made them in (the manifest's plan order), never alphabetical. An axis
longer than ``max_cols`` wraps into bands; a sheet holds at most ``max_rows`` grid rows, and the rest
go on further sheets. A job with no image (failed, missing) is a grey cell marked "missing".

A video's cell shows its middle frame, tagged "video"; a view set's cell is a row of its views, each tagged
with its label (so every column of a sheet with view sets is as wide as the longest set).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from ..errors import InvalidParameterError
from ..media.frames import middle_frame
from ..media.images import square_thumbnail
from ..tasks import get_task

BACKGROUND = (255, 255, 255)
MISSING = (225, 225, 225)
TEXT = (20, 20, 20)
LINE = 14
GAP = 4
LABEL_LINES = 3


@dataclass(frozen=True)
class GridCell:
    """One job's picture and the axis values that place it: an image, a video (shown by its middle frame) or a
    view set (``views``: its ``(label, file)`` pairs, shown side by side)."""

    path: Path
    values: Mapping[str, Any]
    video: bool = False
    views: tuple[tuple[str, Path], ...] = ()

    @property
    def span(self) -> int:
        """How many pictures wide the cell is."""
        return max(1, len(self.views))


@dataclass(frozen=True)
class Layout:
    """Which axis goes across, down and onto sheets; ``pages`` are the unplaced axes that still vary."""

    x: str | None
    y: str | None
    z: str | None
    pages: tuple[str, ...]

    def sheet_axes(self) -> list[str]:
        return [axis for axis in (self.z, *self.pages) if axis]


@dataclass(frozen=True)
class Sheet:
    """One picture, the axis values it shows (its title) and how many images it holds."""

    image: Image.Image
    title: str
    images: int


def cells_from_records(records: Iterable[Mapping[str, Any]], run_dir: Path) -> list[GridCell]:
    """The outputs of manifest records (in plan order), with model, seed, task and parameters as values."""
    cells = []
    for record in records:
        if not record.get("output"):
            continue
        job, path = record["params"], run_dir / record["output"]
        values = {"model": job.get("model"), "task": job.get("task"), "seed": job.get("seed"), **job.get("params", {})}
        output = get_task(job["task"]).output
        views = _views(run_dir, path, record["job_id"]) if output == "images" else ()
        cells.append(GridCell(path, values, video=output == "video", views=views))
    return cells


def axis_values(cells: Sequence[GridCell], axis: str | None) -> list[Any]:
    """The distinct values of ``axis`` in first-seen (sweep) order; ``[None]`` for no axis."""
    if axis is None:
        return [None]
    return list(dict.fromkeys(_hashable(cell.values.get(axis)) for cell in cells))


def varying_axes(cells: Sequence[GridCell]) -> list[str]:
    """Keys whose value differs between cells, in first-seen order."""
    keys: dict[str, None] = {}
    for cell in cells:
        keys.update(dict.fromkeys(cell.values))
    return [key for key in keys if len(axis_values(cells, key)) > 1]


def choose_layout(
    cells: Sequence[GridCell], x: str | None = None, y: str | None = None, z: str | None = None
) -> Layout:
    """The axes asked for (each must vary), else seeds across and the next varying axis down."""
    axes = varying_axes(cells)
    asked = {"--x": x, "--y": y, "--z": z}
    for flag, axis in asked.items():
        if axis is not None and axis not in axes:
            raise InvalidParameterError(flag, f"{axis!r} does not vary in this run; varying axes are {axes}")
    placed = [axis for axis in asked.values() if axis]
    if len(set(placed)) < len(placed):
        raise InvalidParameterError("--x/--y/--z", f"each axis can be placed once, got {placed}")
    free = [axis for axis in axes if axis not in placed]
    if x is None and free:
        x = "seed" if "seed" in free else free[0]
        free.remove(x)
    if y is None and free:
        y = free.pop(0)
    placed = [axis for axis in (x, y, z) if axis]
    return Layout(x, y, z, tuple(axis for axis in free if not _decided_by(cells, axis, placed)))


def contact_sheets(
    cells: Sequence[GridCell],
    layout: Layout,
    *,
    cell_size: int = 192,
    max_cols: int = 10,
    max_rows: int = 10,
) -> list[Sheet]:
    """The sheets of ``cells`` on ``layout``: one per value of its sheet axes, each split to fit."""
    if not cells:
        raise InvalidParameterError("run_dir", "has no finished jobs to put in a grid")
    for name, value in (("--cell-size", cell_size), ("--max-cols", max_cols), ("--max-rows", max_rows)):
        if value < 1:
            raise InvalidParameterError(name, f"must be an integer >= 1, got {value!r}")
    xs, ys = axis_values(cells, layout.x), axis_values(cells, layout.y)
    sheet_axes = layout.sheet_axes()
    sheets = []
    for page in itertools.product(*(axis_values(cells, axis) for axis in sheet_axes)):
        on_page = [cell for cell in cells if _values(cell, sheet_axes) == page]
        if not on_page:
            continue
        title = ", ".join(f"{axis}={value}" for axis, value in zip(sheet_axes, page, strict=True))
        span = max(cell.span for cell in on_page)
        by_position = {(_hashable(c.values.get(layout.x)), _hashable(c.values.get(layout.y))): c for c in on_page}
        bands = [(xc, yc) for yc in _chunks(ys, max_rows) for xc in _chunks(xs, max_cols)]
        groups = _pack(bands, max_rows)
        for part, group in enumerate(groups):
            part_title = title if len(groups) == 1 else f"{title} (part {part + 1} of {len(groups)})".lstrip()
            drawing = _Drawing(layout, cell_size, span)
            image = drawing.draw(part_title, group, by_position)
            shown = sum(1 for xc, yc in group for xv in xc for yv in yc if (xv, yv) in by_position)
            sheets.append(Sheet(image, part_title, shown))
    return sheets


class _Drawing:
    """One sheet's geometry and text: a title, then bands (a header of x labels over rows of cells). A cell is
    ``span`` pictures wide (the longest view set on the sheet) and one high."""

    def __init__(self, layout: Layout, cell_size: int, span: int = 1) -> None:
        self.layout, self.cell, self.width = layout, cell_size, cell_size * span
        self.font = ImageFont.load_default()

    def draw(self, title: str, bands: Sequence[tuple[list, list]], cells: Mapping[tuple, GridCell]) -> Image.Image:
        step, across = self.cell + GAP, self.width + GAP
        x_labels = [[self._wrap(self._label(self.layout.x, v), self.width) for v in xc] for xc, _ in bands]
        header = max((len(lines) for labels in x_labels for lines in labels), default=0) * LINE + GAP
        y_labels = {v: self._wrap(self._label(self.layout.y, v), 2 * self.cell) for _, yc in bands for v in yc}
        margin = max((self._width(line) for lines in y_labels.values() for line in lines), default=0) + 3 * GAP
        top = (LINE + 2 * GAP) if title else GAP
        width = margin + max(len(xc) for xc, _ in bands) * across
        height = top + sum(header + len(yc) * step for _, yc in bands)
        sheet = Image.new("RGB", (max(width, self._width(title) + 2 * GAP), height), BACKGROUND)
        draw = ImageDraw.Draw(sheet)
        draw.text((GAP, GAP), title, fill=TEXT, font=self.font)
        for (xc, yc), labels in zip(bands, x_labels, strict=True):
            for c, lines in enumerate(labels):
                self._lines(draw, lines, margin + c * across, top)
            top += header
            for yv in yc:
                self._lines(draw, y_labels[yv], GAP, top + GAP)
                for c, xv in enumerate(xc):
                    cell = cells.get((xv, yv))
                    sheet.paste(self._tile(cell) if cell else self._missing(), (margin + c * across, top))
                top += step
        return sheet

    def _tile(self, cell: GridCell) -> Image.Image:
        """The cell's picture: its image, its video's middle frame, or its views in a row, each tagged."""
        tile = Image.new("RGB", (self.width, self.cell), BACKGROUND)
        if cell.views:
            for i, (label, path) in enumerate(cell.views):
                tile.paste(_thumbnail(path, self.cell), (i * self.cell, 0))
                self._tag(tile, label, i * self.cell)
        elif cell.video:
            tile.paste(square_thumbnail(middle_frame(cell.path), self.cell, BACKGROUND), (0, 0))
            self._tag(tile, "video", 0)
        else:
            tile.paste(_thumbnail(cell.path, self.cell), (0, 0))
        return tile

    def _tag(self, tile: Image.Image, text: str, left: int) -> None:
        """``text`` on a white box in the bottom-left corner of the picture that starts at ``left``."""
        text = self._fit(text, self.cell - 2 * GAP)
        top = self.cell - LINE - 1
        ImageDraw.Draw(tile).rectangle((left, top, left + self._width(text) + 2 * GAP, self.cell), fill=BACKGROUND)
        ImageDraw.Draw(tile).text((left + GAP, top), text, fill=TEXT, font=self.font)

    def _missing(self) -> Image.Image:
        tile = Image.new("RGB", (self.width, self.cell), MISSING)
        ImageDraw.Draw(tile).text((GAP, GAP), "missing", fill=TEXT, font=self.font)
        return tile

    def _label(self, axis: str | None, value: Any) -> str:
        return "" if axis is None else f"{axis}={value}"

    def _wrap(self, text: str, width: int) -> list[str]:
        """``text`` broken into lines that fit ``width`` pixels, at most ``LABEL_LINES`` (the last one cut)."""
        lines, line = [], ""
        for word in text.split(" "):
            candidate = f"{line} {word}".strip()
            if self._width(candidate) <= width or not line:
                line = candidate
            else:
                lines.append(line)
                line = word
        lines.append(line)
        lines = [self._fit(part, width) for part in lines]
        return lines if len(lines) <= LABEL_LINES else [*lines[: LABEL_LINES - 1], self._fit(lines[-1] + "…", width)]

    def _fit(self, text: str, width: int) -> str:
        while len(text) > 1 and self._width(text) > width:
            text = text[:-2] + "…"
        return text

    def _lines(self, draw: ImageDraw.ImageDraw, lines: Sequence[str], left: int, top: int) -> None:
        for i, text in enumerate(lines):
            draw.text((left, top + i * LINE), text, fill=TEXT, font=self.font)

    def _width(self, text: str) -> int:
        left, _, right, _ = self.font.getbbox(text)
        return int(right - left)


def _decided_by(cells: Sequence[GridCell], axis: str, placed: Sequence[str]) -> bool:
    """Whether the placed axes' values fix ``axis``'s value (then it needs no sheets of its own)."""
    seen: dict[tuple, Any] = {}
    for cell in cells:
        value = seen.setdefault(_values(cell, placed), _hashable(cell.values.get(axis)))
        if value != _hashable(cell.values.get(axis)):
            return False
    return True


def _pack(bands: list[tuple[list, list]], max_rows: int) -> list[list[tuple[list, list]]]:
    """Bands grouped into sheets of at most ``max_rows`` grid rows."""
    sheets: list[list[tuple[list, list]]] = [[]]
    for band in bands:
        if sheets[-1] and sum(len(yc) for _, yc in sheets[-1]) + len(band[1]) > max_rows:
            sheets.append([])
        sheets[-1].append(band)
    return sheets


def _chunks(values: list[Any], size: int) -> list[list[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _values(cell: GridCell, axes: Sequence[str]) -> tuple:
    return tuple(_hashable(cell.values.get(axis)) for axis in axes)


def _hashable(value: Any) -> Any:
    return repr(value) if isinstance(value, (list, dict)) else value


def _views(run_dir: Path, main: Path, job_id: str) -> tuple[tuple[str, Path], ...]:
    """The ``(label, file)`` pairs of a view set, from its sidecar (none if unreadable: its sheet is shown)."""
    try:
        files = json.loads(main.with_name(f"{job_id}.json").read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return ()
    return tuple((f["view"], run_dir / f["path"]) for f in files if f.get("view"))


def _thumbnail(path: Path, size: int) -> Image.Image:
    with Image.open(path) as image:
        return square_thumbnail(image, size, BACKGROUND)

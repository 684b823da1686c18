"""``abstractvision grid RUN_DIR [--x K] [--y K] [--z K]``: the run's images on labelled contact sheets."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from . import add_where


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "grid",
        help="lay a run's images out on labelled grids (an XYZ plot: x across, y down, a sheet per z)",
        description="Write contact sheets of the finished jobs of RUN_DIR, from its manifest. Axes are the "
        "keys that vary between jobs (model, seed, prompt, guidance_scale, ...), in sweep order. Every image "
        "appears: a varying axis that is not placed gives one sheet per value. A video shows its middle frame, "
        "a view set its views in a row.",
    )
    parser.add_argument("run_dir", type=Path, help="the run folder (holds manifest.sqlite)")
    parser.add_argument("--x", metavar="KEY", help="the axis across (default: seed, if it varies)")
    parser.add_argument("--y", metavar="KEY", help="the axis down (default: the next varying axis)")
    parser.add_argument("--z", metavar="KEY", help="one sheet per value of this axis")
    add_where(parser)
    parser.add_argument("--cell-size", type=int, default=192, help="pixels per image (default: 192)")
    parser.add_argument("--max-cols", type=int, default=10, help="cells across before the x axis wraps (default: 10)")
    parser.add_argument("--max-rows", type=int, default=10, help="grid rows per sheet before paging (default: 10)")
    parser.add_argument(
        "--out", type=Path, default=None, help="output PNG (default: RUN_DIR/grid.png; several sheets: grid-1.png, ...)"
    )
    parser.set_defaults(func=grid)


def grid(args: argparse.Namespace) -> int:
    from ..outputs.export import Selection, parse_where
    from ..outputs.files import write_atomic
    from ..outputs.grid import cells_from_records, choose_layout, contact_sheets
    from ..pipeline.run_dir import RunDir

    manifest = RunDir(args.run_dir).open_readonly()
    try:
        selection = Selection(manifest, args.run_dir, "done", parse_where(args.where))  # unknown keys named
        cells = cells_from_records(manifest.records("done", selection.where), args.run_dir)
    finally:
        manifest.close()
    layout = choose_layout(cells, args.x, args.y, args.z)
    sheets = contact_sheets(cells, layout, cell_size=args.cell_size, max_cols=args.max_cols, max_rows=args.max_rows)
    out = args.out or args.run_dir / "grid.png"
    placed = ", ".join(f"{name}={axis}" for name, axis in (("x", layout.x), ("y", layout.y)) if axis)
    pages = f"; a sheet per {' x '.join(layout.sheet_axes())}" if layout.sheet_axes() else ""
    noun = "images" if all(cell.span == 1 and not cell.video for cell in cells) else "jobs"  # a view set: 1 job
    print(f"{len(cells)} {noun} on {len(sheets)} sheet(s) ({placed or 'one cell'}{pages})")
    for number, sheet in enumerate(sheets, start=1):
        path = out if len(sheets) == 1 else out.with_name(f"{out.stem}-{number}{out.suffix}")
        buffer = io.BytesIO()
        sheet.image.save(buffer, format="PNG")
        write_atomic(path, buffer.getvalue())
        title = f" {sheet.title}" if sheet.title else ""
        print(f"wrote {path} ({sheet.images} {noun}, {sheet.image.width}x{sheet.image.height}){title}")
    return 0

"""``abstractvision grid RUN_DIR``: the run's images on one labelled contact sheet."""

from __future__ import annotations

import argparse
import io
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "grid",
        help="lay a run's images out on a labelled grid (seeds across, other swept axes down)",
        description="Write a contact sheet of the finished image jobs of RUN_DIR. Axes are the keys that vary "
        "between jobs (model, seed, prompt, guidance_scale, ...).",
    )
    parser.add_argument("run_dir", type=Path, help="the run folder (holds manifest.sqlite)")
    parser.add_argument("--rows", nargs="+", default=[], metavar="KEY", help="axes down (default: the others)")
    parser.add_argument("--cols", nargs="+", default=[], metavar="KEY", help="axes across (default: seed)")
    parser.add_argument("--cell-size", type=int, default=192, help="pixels per image (default: 192)")
    parser.add_argument("--out", type=Path, default=None, help="output PNG (default: RUN_DIR/grid.png)")
    parser.set_defaults(func=grid)


def grid(args: argparse.Namespace) -> int:
    from ..outputs.files import write_atomic
    from ..outputs.grid import cells_from_records, contact_sheet
    from ..pipeline.run_dir import RunDir

    manifest = RunDir(args.run_dir).open_readonly()
    try:
        cells = cells_from_records(manifest.records("done"), args.run_dir)
    finally:
        manifest.close()
    sheet = contact_sheet(cells, args.rows, args.cols, args.cell_size)
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    out = write_atomic(args.out or args.run_dir / "grid.png", buffer.getvalue())
    print(f"wrote {out} ({len(cells)} images, {sheet.width}x{sheet.height})")
    return 0

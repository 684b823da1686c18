"""``abstractvision gallery RUN_DIR``: a static HTML gallery of the run (see docs/review.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import add_where


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gallery",
        help="write a static HTML gallery of a run (thumbnails, filters, search; opens from disk, no server)",
        description="Write RUN_DIR/gallery/index.html (or --out): every finished output with a thumbnail, "
        "filters by swept parameter, a prompt search, and each item's full record on click.",
    )
    parser.add_argument("run_dir", type=Path, help="the run folder (holds manifest.sqlite)")
    parser.add_argument("--out", type=Path, default=None, help="the gallery folder (default: RUN_DIR/gallery)")
    add_where(parser)
    parser.add_argument("--thumb-size", type=int, default=160, help="thumbnail pixels (default: 160)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=gallery)


def gallery(args: argparse.Namespace) -> int:
    from ..outputs.export import parse_where
    from ..outputs.gallery import build_gallery

    index, count = build_gallery(args.run_dir, args.out, where=parse_where(args.where), thumb_size=args.thumb_size,
                                 progress=not args.no_progress)  # fmt: skip
    print(f"wrote {index} ({count} items); open it in a browser")
    return 0

"""One module per ``abstractvision`` subcommand; each exposes ``register(subparsers)``."""

from __future__ import annotations

import argparse


def add_where(parser: argparse.ArgumentParser) -> None:
    """``--where KEY=VALUE`` (repeatable), the job filter of the commands that read a run (parse_where)."""
    parser.add_argument(
        "--where", action="append", default=[], metavar="KEY=VALUE",
        help="only jobs whose field equals VALUE: a parameter, a label, seed, model, task (repeatable: all must hold)",
    )  # fmt: skip

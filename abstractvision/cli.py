"""The ``abstractvision`` command: a thin shell over the library.

Each subcommand lives in the module that owns the feature and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` (``func(args) -> int`` exit code). Heavy imports stay
inside ``func`` so that ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import threading

from . import __version__
from .errors import AbstractVisionError

SUBCOMMAND_MODULES = (
    "abstractvision.commands.generate",
    "abstractvision.commands.serve",
    "abstractvision.commands.run",
    "abstractvision.commands.status",
    "abstractvision.commands.grid",
    "abstractvision.commands.export",
    "abstractvision.commands.verify",
    "abstractvision.commands.gallery",
    "abstractvision.commands.sdcpp",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="abstractvision",
        description="Declarative, reproducible generative-vision pipelines.",
    )
    parser.add_argument("--version", action="version", version=f"abstractvision {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    if extra and not getattr(args, "accepts_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        return int(args.func(args) or 0)
    except AbstractVisionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `... | head` closed the pipe: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return 141


def entry() -> None:
    """The console command. After a second Ctrl-C it exits at once, without waiting for the job still running
    on a worker thread (the run folder is already closed, and resumable)."""
    code = main()
    if code == 130:
        from .pipeline.executors.local import JOB_THREAD_PREFIX  # loaded already by the run that was stopped

        if any(t.name.startswith(JOB_THREAD_PREFIX) for t in threading.enumerate()):
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()

"""``bench/RESULTS.md``: the machine, the versions, the date, the command line, and every figure vs its target."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Mapping, Sequence
from importlib import metadata

from .harness import Figure, Row, Unavailable

PACKAGES = ("abstractvision", "torch", "diffusers", "transformers", "hydra-core", "hydra-joblib-launcher",
            "joblib", "stable-diffusion-cpp-python")  # fmt: skip


def machine() -> dict[str, str]:
    return {
        "CPUs": str(os.cpu_count()),
        "OS": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "Python": platform.python_version(),
    }


def versions(packages: Sequence[str] = PACKAGES) -> dict[str, str]:
    """Installed versions, read from package metadata (nothing heavy is imported)."""
    found = {}
    for package in packages:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def _row(row: Row) -> str:
    target = str(row.target) if row.target else "-"
    if isinstance(row, Unavailable):
        return f"| {row.bench} | {row.subject} | {row.reason} | | | | {target} | - |"
    low, high = row.spread
    medians = f"{statistics.median(row.subject_s):.2f} s / {statistics.median(row.baseline_s):.2f} s"
    figure = f"**{row.ratio:.2f}x**"
    if row.target and row.target.unit == "s":
        figure = f"**{row.measured:.2f} s** ({row.ratio:.2f}x)"
    return (
        f"| {row.bench} | {row.subject} / {row.baseline} | {figure} | {low:.2f}-{high:.2f}x | {medians} "
        f"| {len(row.subject_s)} | {target} | {row.verdict} |"
    )


def render(rows: Sequence[Row], context: Mapping[str, str], notes: Sequence[str] = ()) -> str:
    """The whole RESULTS.md: ``context`` (date, command, settings) first, then machine, versions, table, notes."""
    lines = ["# Benchmark results", "", "Written by `python -m bench`; every ratio is measured in this one run.", ""]
    lines += [f"- **{key}**: {value}" for key, value in {**context, **machine()}.items()]
    lines += ["", "| package | version |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in versions().items())]
    lines += [
        "",
        "Ratio = median seconds of the first contender / median seconds of the second (above 1: the second is",
        "faster). Spread = lowest and highest ratio of a single round. Rounds are interleaved (A B A B ...).",
        "",
        "| bench | contenders | ratio | spread | medians | rounds | target | result |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *(_row(row) for row in rows),
    ]
    details = [f"- {row.bench}: {row.note}" for row in rows if isinstance(row, Figure) and row.note]
    details = list(dict.fromkeys(details))  # one line per bench, in order
    if details or notes:
        lines += ["", "## Notes", "", *details, *(f"- {note}" for note in notes)]
    return "\n".join(lines) + "\n"

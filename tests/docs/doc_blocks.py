"""The fenced code blocks of a Markdown page, with the HTML-comment markers written right before each fence.

The markers (one HTML comment per line, on the lines right above the fence):

- ``<!-- needs: gpu -->``, ``hub``, ``cluster``, ``install``, ``checkout``: the block needs something this machine
  cannot give (a CUDA device, a model hub, several machines or a scheduler, a package registry: `.ci/run` does
  the installs), or the repository itself (its test suite, which runs anyway). It is skipped and counted.
- ``<!-- needs: sdcpp -->``: it runs stable-diffusion.cpp; skipped and counted where neither sd-cli nor
  stable-diffusion-cpp-python is installed.
- ``<!-- docs: background -->``: a foreground server (``abstractvision serve``): started in the background,
  waited for on its port, stopped after the page's last block.
- ``<!-- docs: fragment -->``: a shape shown inside prose, not runnable on its own; counted (keep these rare).
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST = ["README.md", "docs/getting-started.md"]
PAGES = [*FIRST, *sorted({f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")} - set(FIRST))]  # reading order
TESTED_ELSEWHERE = {  # pages whose blocks other tests run, with what those tests assert about them
    "docs/python.md": ("tests/integration/test_python_docs.py", ("python",)),
    "docs/datasets.md": ("tests/integration/test_docs_review.py", ("bash", "python")),
    "docs/review.md": ("tests/integration/test_docs_review.py", ("bash", "python")),
    "docs/multi-view.md": ("tests/integration/test_multi_view.py", ("python",)),
}
SHELL = ("bash", "sh", "console")
RUN = (*SHELL, "python", "yaml")  # the languages the docs test runs (yaml: written where it says, and composed)
NEEDS = ("gpu", "hub", "cluster", "install", "checkout", "sdcpp")
NEVER_HERE = ("gpu", "hub", "cluster", "install", "checkout")
DOCS = ("background", "fragment")

_FENCE = re.compile(r"^```(\S*)\s*$")
_MARKER = re.compile(r"^<!--\s*(needs|docs):\s*([\w-]+)\s*-->$")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its text and its markers (``{"needs": "hub"}``)."""

    page: str
    line: int
    language: str
    text: str
    markers: dict[str, str]

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def read_blocks(path: Path, page: str) -> list[Block]:
    """Every fenced block of ``path`` (``page`` is its name in messages); a bad marker raises ``ValueError``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        end = next((i for i in range(index + 1, len(lines)) if lines[i].strip() == "```"), None)
        if end is None:
            raise ValueError(f"{page}:{index + 1}: a fence that is never closed")
        found.append(Block(page, index + 1, fence.group(1), "\n".join(lines[index + 1 : end]) + "\n",
                           _markers(lines, index, page)))  # fmt: skip
        index = end + 1
    return found


def _markers(lines: list[str], fence: int, page: str) -> dict[str, str]:
    markers: dict[str, str] = {}
    above = fence - 1
    while above >= 0 and lines[above].startswith("<!--"):
        match = _MARKER.match(lines[above].strip())
        allowed = {"needs": NEEDS, "docs": DOCS}
        if not match or match.group(2) not in allowed[match.group(1)]:
            raise ValueError(
                f"{page}:{above + 1}: unknown docs marker {lines[above]!r}; use <!-- needs: {'|'.join(NEEDS)} --> "
                f"or <!-- docs: {'|'.join(DOCS)} -->"
            )
        markers[match.group(1)] = match.group(2)
        above -= 1
    return markers


def sdcpp_installed() -> bool:
    from abstractvision.backends.stable_diffusion_cpp.cli_runner import find_sd_cli

    return find_sd_cli(None) is not None or importlib.util.find_spec("stable_diffusion_cpp") is not None


def skip_reason(block: Block) -> str | None:
    """Why the docs test does not run ``block`` here, or ``None`` when it runs it."""
    needs = block.markers.get("needs")
    if needs in NEVER_HERE or (needs == "sdcpp" and not sdcpp_installed()):
        return f"needs: {needs}"
    if block.markers.get("docs") == "fragment":
        return "fragment"
    elsewhere, languages = TESTED_ELSEWHERE.get(block.page, ("", ()))
    if block.language in languages:
        return f"run by {elsewhere}"
    return None


def to_run(page: str) -> list[Block]:
    """The blocks of ``page`` that the docs test runs here."""
    return [b for b in read_blocks(ROOT / page, page) if b.language in RUN and skip_reason(b) is None]


RAY_EXECUTOR = re.compile(r"executor\s*[=:]\s*ray\b")  # an override or a YAML key


def machine_wide(page: str) -> bool:
    """Whether ``page`` runs something only one test on the machine may run at once: a server, or Ray."""
    return any(b.markers.get("docs") == "background" or RAY_EXECUTOR.search(b.text) for b in to_run(page))


def tally() -> Counter:
    """Every code block of the pages, by what becomes of it here: ``run``, or the reason it is not."""
    blocks = [b for page in PAGES for b in read_blocks(ROOT / page, page) if b.language in RUN]
    return Counter(skip_reason(b) or "run" for b in blocks)

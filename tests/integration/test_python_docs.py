"""Every Python block of docs/python.md, in order, as one script in an empty folder, on the real tiny-sd."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
DOC = Path(__file__).resolve().parents[2] / "docs" / "python.md"


def python_blocks() -> list[str]:
    """The doc's Python blocks; those using pandas only when it is installed (it is not a dependency)."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    has_pandas = importlib.util.find_spec("pandas") is not None
    return [block for block in blocks if has_pandas or "to_pandas" not in block]


def test_every_python_example_of_the_doc_runs(tmp_path: Path, tiny_sd_path: Path) -> None:
    script = tmp_path / "doc.py"
    script.write_text("\n".join(python_blocks()), encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # What the doc's comments say the examples print.
    assert "12 [('diffusers', 'tiny-sd')]" in out
    assert "{'total': 12, 'pending': 0, 'running': 0, 'done': 12, 'failed': 0}" in out
    assert "6 []" in out
    assert "`width`: must be a positive multiple of 8, got 13; use 8 or 16" in out
    assert "'animals-dataset' is not a run folder (no manifest.sqlite)" in out
    assert out.rstrip().endswith("\n2")
    assert (tmp_path / "castle-study.png").is_file()
    records = [json.loads(line) for line in (tmp_path / "animals-dataset" / "metadata.jsonl").read_text().splitlines()]
    assert sorted((r["text"], r["seed"]) for r in records) == sorted(
        (p, s) for p in ("a red fox", "a snowy owl", "a sleepy cat") for s in (0, 1)
    )
    assert all((tmp_path / "animals-dataset" / r["file_name"]).is_file() for r in records)

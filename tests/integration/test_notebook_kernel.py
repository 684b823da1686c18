"""``abstractvision.run`` in a real Jupyter kernel: a progress widget, a PNG picture of the result, the kernel's
interrupt button stopping the run cleanly, and the same cell resuming it.

Skipped where ipykernel and jupyter_client are not installed (they are not dependencies). Measured with them
installed (``pip install ipykernel jupyter_client ipywidgets``): passes in about 65 s on the 2-core box.
"""

from __future__ import annotations

import importlib.util
import queue
import time
from pathlib import Path
from typing import Any

import pytest
from run_helpers import count_done

pytestmark = pytest.mark.slow
pytest.importorskip("ipykernel", reason="needs a Jupyter kernel: pip install ipykernel jupyter_client")
jupyter_manager = pytest.importorskip("jupyter_client.manager", reason="needs jupyter_client")
CELL = 'import abstractvision\nr = abstractvision.run(["prompt=a red fox", "seed=range(0,6)"], run_dir="nb")\nr'


def run_cell(client: Any, manager: Any, run_dir: Path, interrupt_after: int | None = None) -> list[dict[str, Any]]:
    """The cell's iopub messages until the kernel is idle; with ``interrupt_after``, press interrupt once
    that many jobs are done."""
    msg_id, messages, deadline = client.execute(CELL), [], time.monotonic() + 300
    while time.monotonic() < deadline:
        if interrupt_after is not None and count_done(run_dir) >= interrupt_after:
            manager.interrupt_kernel()
            interrupt_after = None
        try:
            msg = client.get_iopub_msg(timeout=0.2)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages
        messages.append(msg)
    raise AssertionError("the cell did not finish")


def results(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["content"]["data"] for m in messages if m["msg_type"] == "execute_result"]


def test_a_notebook_run_shows_progress_and_a_grid_and_resumes_after_interrupt(
    tmp_path: Path, tiny_sd_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the kernel starts in the current folder
    manager, client = jupyter_manager.start_new_kernel(kernel_name="python3")
    try:
        first = run_cell(client, manager, tmp_path / "nb", interrupt_after=1)
        assert not [m for m in first if m["msg_type"] == "error"], first
        (result,) = results(first)
        assert "interrupted: run the same call again to resume" in result["text/plain"]
        assert result["image/png"]  # the grid of what is done so far
        second = run_cell(client, manager, tmp_path / "nb")
        (result,) = results(second)
        assert "6 done, 0 failed, 0 to do)" in result["text/plain"] and result["image/png"]
        if importlib.util.find_spec("ipywidgets"):  # tqdm.auto draws a widget, else a text bar
            assert any("application/vnd.jupyter.widget-view+json" in m["content"].get("data", {}) for m in second)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)

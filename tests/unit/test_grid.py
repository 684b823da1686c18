"""Contact sheets from manifest records: axes found from the jobs, cells placed by their values."""

from __future__ import annotations

import pytest
from PIL import Image

from abstractvision import InvalidParameterError
from abstractvision.outputs.grid import cells_from_records, choose_layout, contact_sheet, varying_axes

COLORS = {(0, 5.0): "red", (1, 5.0): "green", (0, 7.5): "blue", (1, 7.5): "yellow"}


def record(seed: int, guidance: float, output: str) -> dict:
    job = {
        "model": "tiny-sd",
        "task": "text_to_image",
        "seed": seed,
        "params": {"prompt": "fox", "guidance_scale": guidance},
    }
    return {"params": job, "output": output}


@pytest.fixture
def cells(tmp_path):
    (tmp_path / "outputs").mkdir()
    records = []
    for (seed, guidance), color in COLORS.items():
        name = f"outputs/{seed}-{guidance}.png"
        Image.new("RGB", (8, 8), color).save(tmp_path / name)
        records.append(record(seed, guidance, name))
    records.append({"params": records[0]["params"], "output": "outputs/clip.mp4"})  # videos are left out
    return cells_from_records(records, tmp_path)


def test_axes_are_the_keys_that_vary(cells):
    assert len(cells) == 4
    assert varying_axes(cells) == ["seed", "guidance_scale"]
    assert choose_layout(cells) == (["guidance_scale"], ["seed"])
    assert choose_layout(cells, rows=["seed"]) == (["seed"], ["guidance_scale"])


def test_cells_land_where_their_values_say(cells):
    sheet = contact_sheet(cells, cell_size=32)
    # Two columns (seed 0, 1) and two rows (guidance 5.0, 7.5) of 32 px cells below a header, right of labels.
    assert sheet.height == 14 + 8 + 2 * 36
    right, bottom = sheet.width - 4 - 16, sheet.height - 4 - 16  # the middle of the last cell
    assert sheet.getpixel((right, bottom)) == (255, 255, 0)  # seed 1, guidance 7.5
    assert sheet.getpixel((right - 36, bottom)) == (0, 0, 255)  # seed 0, guidance 7.5
    assert sheet.getpixel((right, bottom - 36)) == (0, 128, 0)  # seed 1, guidance 5.0


def test_missing_jobs_leave_a_grey_cell(cells):
    sheet = contact_sheet(cells[:3], cell_size=32)
    assert sheet.getpixel((sheet.width - 20, sheet.height - 20)) == (225, 225, 225)


def test_unknown_axis_and_empty_runs_are_refused(cells):
    with pytest.raises(InvalidParameterError, match=r"`--cols`: \['steps'\] do not vary in this run; varying axes"):
        contact_sheet(cells, cols=["steps"])
    with pytest.raises(InvalidParameterError, match="no finished image jobs"):
        contact_sheet([])

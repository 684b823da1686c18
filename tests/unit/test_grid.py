"""Contact sheets from manifest records: axes found from the jobs, cells placed by their values, every image
shown, sweep order kept, long axes wrapped and paged. (Coloured squares stand in for images, so that a pixel
says which job landed where; the real run is in tests/integration/test_grid_cli.py.)"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from PIL import Image

from abstractvision import InvalidParameterError
from abstractvision.outputs.grid import GAP, cells_from_records, choose_layout, contact_sheets, varying_axes

COLORS = {(0, 5.0): "red", (1, 5.0): "green", (0, 7.5): "blue", (1, 7.5): "yellow"}


def record(output: str, seed: int = 0, **params) -> dict:
    job = {"model": "tiny-sd", "task": "text_to_image", "seed": seed, "params": {"prompt": "fox", **params}}
    return {"params": job, "output": output}


def make_cells(tmp_path: Path, combos: list[dict], color=lambda i: (i % 256, 0, 0)) -> list:
    (tmp_path / "outputs").mkdir(exist_ok=True)
    records = []
    for i, combo in enumerate(combos):
        name = f"outputs/{i}.png"
        Image.new("RGB", (8, 8), color(i)).save(tmp_path / name)
        records.append(record(name, **combo))
    return cells_from_records(records, tmp_path)


@pytest.fixture
def cells(tmp_path):
    combos = [{"seed": s, "guidance_scale": g} for g, s in [(5.0, 0), (5.0, 1), (7.5, 0), (7.5, 1)]]
    names = list(COLORS.values())
    cells = make_cells(tmp_path, combos, color=lambda i: names[i])
    return cells


def test_axes_are_the_keys_that_vary(cells):
    assert len(cells) == 4
    assert varying_axes(cells) == ["seed", "guidance_scale"]
    layout = choose_layout(cells)
    assert (layout.x, layout.y) == ("seed", "guidance_scale")
    layout = choose_layout(cells, y="seed")
    assert (layout.x, layout.y) == ("guidance_scale", "seed")


def test_cells_land_where_their_values_say(cells):
    [sheet] = contact_sheets(cells, choose_layout(cells), cell_size=32)
    # Two columns (seed 0, 1) and two rows (guidance 5.0, 7.5) of 32 px cells below a header, right of labels.
    assert sheet.image.height == GAP + (14 + GAP) + 2 * 36 and sheet.images == 4 and sheet.title == ""
    image = sheet.image
    right, bottom = image.width - 4 - 16, image.height - 4 - 16  # the middle of the last cell
    assert image.getpixel((right, bottom)) == (255, 255, 0)  # seed 1, guidance 7.5
    assert image.getpixel((right - 36, bottom)) == (0, 0, 255)  # seed 0, guidance 7.5
    assert image.getpixel((right, bottom - 36)) == (0, 128, 0)  # seed 1, guidance 5.0


def test_missing_jobs_leave_a_grey_cell(cells):
    [sheet] = contact_sheets(cells[:3], choose_layout(cells[:3]), cell_size=32)
    assert sheet.images == 3
    assert sheet.image.getpixel((sheet.image.width - 8, sheet.image.height - 8)) == (225, 225, 225)


def test_an_unplaced_axis_becomes_sheets_so_every_image_appears(tmp_path):
    # The run: 2 schedulers x 3 guidance scales x 4 seeds drew 6 cells and said "24 images".
    combos = [{"scheduler": s, "guidance_scale": g, "seed": seed}
              for s, g, seed in itertools.product(["euler", "ddim"], [5.0, 7.5, 9.0], range(4))]  # fmt: skip
    cells = make_cells(tmp_path, combos)
    layout = choose_layout(cells, y="scheduler", x="guidance_scale")
    assert layout.pages == ("seed",)
    sheets = contact_sheets(cells, layout, cell_size=16)
    assert [s.title for s in sheets] == ["seed=0", "seed=1", "seed=2", "seed=3"]
    assert [s.images for s in sheets] == [6, 6, 6, 6]
    sheets = contact_sheets(cells, choose_layout(cells, x="guidance_scale", y="scheduler", z="seed"), cell_size=16)
    assert sum(s.images for s in sheets) == 24 and len(sheets) == 4


def test_an_axis_that_follows_a_placed_one_needs_no_sheets(tmp_path):
    combos = [{"prompt": p, "negative_prompt": f"not {p}", "seed": s} for p in ["fox", "owl"] for s in (0, 1)]
    layout = choose_layout(make_cells(tmp_path, combos))
    assert (layout.x, layout.y, layout.pages) == ("seed", "prompt", ())


def test_fifty_prompts_wrap_instead_of_making_a_strip(tmp_path):
    # The run: 50 prompts made one 9812x218 strip.
    cells = make_cells(tmp_path, [{"prompt": f"prompt number {i}"} for i in range(50)])
    layout = choose_layout(cells)
    assert (layout.x, layout.y) == ("prompt", None)
    [sheet] = contact_sheets(cells, layout, cell_size=64, max_cols=10)
    assert sheet.images == 50
    assert sheet.image.width <= 10 * (64 + GAP) + 3 * GAP and sheet.image.height > 5 * 64
    paged = contact_sheets(cells, layout, cell_size=64, max_cols=10, max_rows=2)
    assert [s.images for s in paged] == [20, 20, 10]
    assert [s.title for s in paged] == ["(part 1 of 3)", "(part 2 of 3)", "(part 3 of 3)"]


def test_values_keep_sweep_order_not_alphabetical(tmp_path):
    prompts = ["zebra", "apple", "mango"]
    cells = make_cells(tmp_path, [{"prompt": p} for p in prompts], color=lambda i: ["red", "green", "blue"][i])
    [sheet] = contact_sheets(cells, choose_layout(cells), cell_size=32)
    middles = [sheet.image.getpixel((sheet.image.width - 16 - 4 - c * 36, sheet.image.height - 20)) for c in range(3)]
    assert middles == [(0, 0, 255), (0, 128, 0), (255, 0, 0)]  # mango last, zebra first: as swept


def test_unknown_axis_and_empty_runs_are_refused(cells):
    with pytest.raises(InvalidParameterError, match=r"`--x`: 'steps' does not vary in this run; varying axes are"):
        choose_layout(cells, x="steps")
    with pytest.raises(InvalidParameterError, match="each axis can be placed once"):
        choose_layout(cells, x="seed", y="seed")
    with pytest.raises(InvalidParameterError, match="no finished jobs"):
        contact_sheets([], choose_layout([]))


def test_a_video_shows_its_middle_frame_and_a_view_set_a_row(tmp_path):
    (tmp_path / "outputs").mkdir()
    frames = [Image.new("RGB", (8, 8), c) for c in ("red", "green", "blue")]
    frames[0].save(tmp_path / "outputs/v.gif", save_all=True, append_images=frames[1:])
    video = {**record("outputs/v.gif"), "job_id": "v"}
    video["params"]["task"] = "text_to_video"
    [cell] = cells_from_records([video], tmp_path)
    [sheet] = contact_sheets([cell], choose_layout([cell]), cell_size=32)
    middle = (sheet.image.width - 4 - 16, sheet.image.height - 4 - 28)
    assert sheet.image.getpixel(middle) == (0, 128, 0)  # frame 1 of 0..2, not the first

    views = {"front": "red", "side": "blue"}
    sets = []
    for seed in (0, 1):
        for label, color in views.items():
            Image.new("RGB", (8, 8), color).save(tmp_path / f"outputs/s{seed}-{label}.png")
        files = [{"path": f"outputs/s{seed}.png"}, *({"path": f"outputs/s{seed}-{v}.png", "view": v} for v in views)]
        (tmp_path / f"outputs/s{seed}.json").write_text(json.dumps({"files": files}))
        sets.append({**record(f"outputs/s{seed}.png", seed=seed), "job_id": f"s{seed}"})
        sets[-1]["params"]["task"] = "multi_view_image"
    cells = cells_from_records(sets, tmp_path)
    assert [cell.span for cell in cells] == [2, 2]
    [sheet] = contact_sheets(cells, choose_layout(cells), cell_size=32)
    image, top = sheet.image, sheet.image.height - 4 - 28  # near the top of the cells
    # Two columns (seeds), each two views wide; the view labels are tagged at the bottom of each view.
    assert image.height == GAP + (14 + GAP) + 32 + GAP
    assert image.getpixel((image.width - 4 - 32 - 16, top)) == (255, 0, 0)  # seed 1's front
    assert image.getpixel((image.width - 4 - 16, top)) == (0, 0, 255)  # seed 1's side
    assert image.getpixel((image.width - 4 - 64 - GAP - 16, top)) == (0, 0, 255)  # seed 0's side

"""``abstractvision gallery`` on a real tiny-sd run, checked in a real headless Chromium (Debian's package): the
page loads from disk, shows every thumbnail, a filter and the search narrow the items, and a click's record opens.
Skipped where no Chromium is installed (``apt-get install -y chromium``)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from abstractvision.cli import main
from abstractvision.pipeline.compose import load_run_config
from abstractvision.pipeline.runner import Runner

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--disable-extensions", "--disable-dev-shm-usage", "--allow-file-access-from-files",
         "--virtual-time-budget=5000"]  # fmt: skip


def browse(page: Path, fragment: str = "", *extra: str) -> str:
    """The page's DOM after its scripts ran (or what ``extra`` asks for, e.g. a screenshot)."""
    command = [CHROMIUM, *FLAGS, *(extra or ("--dump-dom",)), f"{page.as_uri()}{fragment}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory, tiny_sd_path: Path) -> Path:
    folder = tmp_path_factory.mktemp("gallery")
    (folder / "prompts.csv").write_text("prompt,label.species\na red fox,fox\na grey wolf,wolf\n")
    overrides = [f"sweep.file={folder / 'prompts.csv'}", "guidance_scale=5,7.5", "steps=2", "seed=1",
                 f"run.dir={folder / 'run'}", "run.progress=false"]  # fmt: skip
    assert Runner(load_run_config(overrides), out=io.StringIO()).run().done == 4
    assert main(["gallery", str(folder / "run"), "--no-progress", "--thumb-size", "96"]) == 0
    return folder / "run" / "gallery" / "index.html"


def test_the_gallery_files(gallery: Path) -> None:
    assert sorted(p.name for p in gallery.parent.iterdir()) == ["index.html", "items.js", "thumbs"]
    assert len(list((gallery.parent / "thumbs").glob("*.jpg"))) == 4
    assert (
        'facets: {"guidance_scale": [5.0, 7.5], "species": ["fox", "wolf"]}'
        in (gallery.parent / "items.js").read_text()
    )


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium: apt-get install -y chromium")
def test_the_page_works_in_headless_chromium(gallery: Path, tmp_path: Path) -> None:
    dom = browse(gallery)
    assert dom.count('class="thumb"') == 4 and "4 of 4" in dom
    assert dom.count('class="thumb"') == browse(gallery, "#species=fox&guidance_scale=5").count('class="thumb"') * 4
    assert "2 of 4" in browse(gallery, "#q=wolf")
    key = gallery.parent.joinpath("thumbs").iterdir().__next__().stem
    opened = browse(gallery, f"#open={key}")
    assert f'"job_id": "{key}"' in opened and "../outputs/" in opened

    shot = tmp_path / "gallery.png"
    browse(gallery, "", f"--screenshot={shot}", "--window-size=900,500")
    with Image.open(shot) as image:
        thumb = image.convert("RGB").crop((12, 60, 12 + 96, 60 + 96))
        assert len(thumb.getcolors(96 * 96)) > 50  # a tiny-sd image was drawn there, not an empty box


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium: apt-get install -y chromium")
def test_ten_thousand_items_load_a_page_at_a_time(gallery: Path, tmp_path: Path) -> None:
    """The page's own scripts on 10,000 items (the run's four, repeated under new keys): it counts them all and
    puts only the first 200 thumbnails in the page until it is scrolled."""
    big = tmp_path / "big"
    shutil.copytree(gallery.parent, big)
    script = (big / "items.js").read_text()
    head, _, rest = script.partition("[\n")
    items, _, tail = rest.partition("\n], facets:")
    lines = items.strip().splitlines()
    many = [line.replace('"key": "', f'"key": "{n}-', 1) for n in range(2500) for line in lines]
    (big / "items.js").write_text(head + "[\n" + "\n".join(many) + "\n], facets:" + tail)
    dom = browse(big / "index.html", "", "--dump-dom", "--window-size=900,500")
    assert "10000 of 10000" in dom and dom.count('class="thumb"') == 200


def test_videos_and_view_sets(video_run: Path, view_run: Path, tmp_path: Path) -> None:
    """A clip is one item (its thumbnail its middle frame; its page plays it), a view set one item per view."""
    import json

    import numpy as np

    from abstractvision.media.frames import middle_frame
    from abstractvision.media.images import square_thumbnail
    from abstractvision.outputs.gallery import build_gallery

    page, count = build_gallery(video_run, tmp_path / "videos", thumb_size=64, progress=False)
    lines = page.with_name("items.js").read_text().splitlines()
    items = [json.loads(line.rstrip(",")) for line in lines if line.startswith("{")]  # one item a line
    assert count == 2 and all(i["video"] and i["file"].endswith(".mp4") and i["mime"] == "video/mp4" for i in items)
    clip = video_run / "outputs" / f"{items[0]['key']}.mp4"
    expected = np.asarray(square_thumbnail(middle_frame(clip), 64, (238, 238, 238)), dtype=int)
    with Image.open(page.parent / items[0]["thumb"]) as thumb:
        assert np.abs(np.asarray(thumb.convert("RGB"), dtype=int) - expected).mean() < 3  # a JPEG of it

    page, count = build_gallery(view_run, tmp_path / "views", thumb_size=64, progress=False)
    script = page.with_name("items.js").read_text()
    assert count == 4 and '"view": ["front", "az22.5_el0"]' in script.partition("facets: ")[2]


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium: apt-get install -y chromium")
def test_a_video_plays_and_views_filter_in_headless_chromium(video_run: Path, view_run: Path, tmp_path: Path) -> None:
    from abstractvision.outputs.gallery import build_gallery

    page, _ = build_gallery(video_run, tmp_path / "videos", thumb_size=64, progress=False)
    key = sorted(page.parent.joinpath("thumbs").iterdir())[0].stem
    dom = browse(page, f"#open={key}")
    assert re.search(f'<video src="[^"]*/outputs/{key}.mp4" controls="" loop="" autoplay="">', dom)
    assert f"{key}.mp4</a><span> · 64x64, 0.6 s</span>" in dom  # Chromium decoded it: 5 frames at 8 fps

    page, _ = build_gallery(view_run, tmp_path / "views", thumb_size=64, progress=False)
    assert "2 of 4" in browse(page, "#view=front")

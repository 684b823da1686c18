"""Bad input to ``plan``/``run``/``open_run``: the project's exceptions naming the field, never ``SystemExit``,
and nothing written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import abstractvision
from abstractvision.errors import AbstractVisionError, InvalidParameterError, RunError

BAD_OVERRIDES = [
    (["model=nope"], "`model`: unknown option 'nope'"),
    (["foo=1"], "`foo`: unknown config key"),
    (["seed=range("], "`seed`: malformed override"),
    (["--cfg"], "`--cfg`: malformed override"),
    (["=3"], "`overrides`: '=3' has no key"),
    (["run.retries=-1"], "`run.retries`: must be an integer >= 0"),
    (["run.concurrency=1,2"], "`run.concurrency`: only generation parameters and config groups can be swept"),
    (["backend.nope=1"], "`backend.nope`: unknown config key"),
    (["width=13"], "`width`: must be a positive multiple of 8"),
    (["+experiment=nope"], "`experiment`: unknown option 'nope'"),
    (["task=glob(zzz*)"], "`task`: the sweep 'task=glob(zzz*)' selects no option"),
    (["sweep.file=nope.txt"], "`sweep.file`: prompt file"),
    (["sweep.nope=1"], "`sweep.nope`: unknown sweep key"),
    ("model=tiny-sd", "`overrides`: must be a list of strings"),
    ([3], "`overrides`: must be a list of strings"),
]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("entry", [abstractvision.plan, abstractvision.run], ids=["plan", "run"])
@pytest.mark.parametrize(("overrides", "message"), BAD_OVERRIDES, ids=[str(o) for o, _ in BAD_OVERRIDES])
def test_bad_overrides_raise_project_errors_not_system_exit(entry, overrides, message, tmp_path: Path) -> None:
    try:
        entry(overrides)
    except AbstractVisionError as exc:
        assert message in str(exc)
    except BaseException as exc:  # SystemExit above all
        pytest.fail(f"{entry.__name__}({overrides!r}) raised {type(exc).__name__}: {exc}")
    else:
        pytest.fail(f"{entry.__name__}({overrides!r}) did not fail")
    assert list(tmp_path.iterdir()) == []  # failed before any folder was made


def test_config_dirs_that_do_not_exist_are_named() -> None:
    with pytest.raises(InvalidParameterError, match="`--config-dir`: 'nowhere' is not a folder"):
        abstractvision.plan(["model=tiny-sd"], config_dirs=["nowhere"])


def test_a_dry_run_setting_points_to_plan(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match=r"`run.dry_run`: .*call abstractvision.plan\(\)"):
        abstractvision.run(["model=tiny-sd", "run.dry_run=true"])
    assert list(tmp_path.iterdir()) == []


def test_a_run_dir_that_is_a_file_is_refused_before_anything_loads(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("not a run")
    with pytest.raises(RunError, match="'taken' is a file, not a folder"):
        abstractvision.run(["model=tiny-sd", "seed=0"], run_dir="taken")


def make_not_runs(tmp_path: Path) -> dict[str, Path]:
    empty = tmp_path / "empty"
    empty.mkdir()
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "manifest.sqlite").write_bytes(b"this is not sqlite at all, just bytes" * 10)
    other_db = tmp_path / "other"
    other_db.mkdir()
    sqlite3.connect(other_db / "manifest.sqlite").execute("CREATE TABLE t (x)").connection.commit()
    (tmp_path / "file").write_text("x")
    return {"missing": tmp_path / "missing", "empty": empty, "garbage": garbage, "other": other_db,
            "file": tmp_path / "file"}  # fmt: skip


@pytest.mark.parametrize("kind", ["missing", "empty", "garbage", "other", "file"])
def test_open_run_on_a_folder_that_is_not_a_run_is_a_clear_error(kind: str, tmp_path: Path) -> None:
    path = make_not_runs(tmp_path)[kind]
    with pytest.raises(RunError, match=r"is not a run folder|is not an AbstractVision manifest") as raised:
        abstractvision.open_run(path)
    assert str(path.name) in str(raised.value)


def test_where_names_an_unknown_key(tmp_path: Path) -> None:
    from abstractvision.pipeline.manifest import Manifest

    Manifest(tmp_path / "manifest.sqlite").close()
    result = abstractvision.open_run(tmp_path)
    assert (len(result), result.counts["total"], result.failures) == (0, 0, [])
    with pytest.raises(InvalidParameterError, match="`guidance`: not a job key; filter on"):
        result.where(guidance=7.5)
    assert result._repr_png_() is None and "0 done, 0 failed, 0 to do" in repr(result)

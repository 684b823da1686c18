"""The bench harness's own helpers: ratios of medians, targets, interleaving, filters and RESULTS.md (no model runs)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.harness import Figure, Settings, Target, Unavailable, bench_env, interleave, ratio, timed_process
from bench.results import render
from bench.suite import BENCHES, select


def test_ratio_is_of_medians() -> None:
    assert ratio([1.0, 9.0, 2.0], [1.0, 1.0, 4.0]) == 2.0


def test_figure_spread_pairs_each_round() -> None:
    figure = Figure("b", "runner", "hand", (2.0, 3.0, 4.0), (2.0, 2.0, 2.0))
    assert figure.ratio == 1.5
    assert figure.spread == (1.0, 2.0)
    assert figure.verdict == "-"


@pytest.mark.parametrize(
    ("target", "measured", "met"),
    [(Target("<=", 1.2), 1.2, True), (Target("<=", 1.2), 1.21, False), (Target(">=", 1.3), 1.29, False),
     (Target(">=", 1.3), 2.0, True), (Target("<", 5.0, "s"), 5.0, False)],
)  # fmt: skip
def test_target_met(target: Target, measured: float, met: bool) -> None:
    assert target.met(measured) is met


def test_seconds_target_reads_the_subject_median() -> None:
    figure = Figure("resume", "resume", "hash", (0.5, 7.0, 0.6), (0.1, 0.1, 0.1), Target("<", 5.0, "s"))
    assert figure.measured == 0.6
    assert figure.verdict == "met"
    assert str(figure.target) == "< 5 s"
    assert str(Target(">=", 2.5)) == ">= 2.5x"


def test_interleave_alternates_contenders_round_by_round() -> None:
    calls: list[str] = []

    def contender(name: str, seconds: float):  # type: ignore[no-untyped-def]
        return lambda round_number: calls.append(f"{name}{round_number}") or seconds

    seconds = interleave({"a": contender("a", 1.0), "b": contender("b", 2.0)}, rounds=3)
    assert calls == ["a0", "b0", "a1", "b1", "a2", "b2"]
    assert seconds == {"a": [1.0, 1.0, 1.0], "b": [2.0, 2.0, 2.0]}


def test_bench_env_sets_the_same_threads_and_this_checkout_first() -> None:
    env = bench_env(3)
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "3"
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["PYTHONPATH"].split(":")[0] == str(Path(__file__).resolve().parents[2])


def test_processes_time_whole_processes_each_with_its_own_folder(tmp_path: Path) -> None:
    settings = Settings(quick=True, rounds=2, threads=1, workdir=tmp_path)
    mkdir = "import pathlib, sys; pathlib.Path(sys.argv[1]).mkdir()"
    seconds = settings.processes({"hand loop": lambda out: [sys.executable, "-c", mkdir, str(out)]}, tmp_path)
    assert len(seconds["hand loop"]) == 2 and all(s > 0 for s in seconds["hand loop"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hand-loop-0", "hand-loop-1"]


def test_a_run_that_made_the_wrong_number_of_images_is_an_error(tmp_path: Path) -> None:
    settings = Settings(quick=True, rounds=1, threads=1, workdir=tmp_path)
    with pytest.raises(RuntimeError, match="left 0 PNG files"):
        settings.processes({"lazy": lambda out: [sys.executable, "-c", "pass"]}, tmp_path, pngs=4)


def test_a_failing_process_raises_with_its_output(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        timed_process([sys.executable, "-c", "import sys; sys.exit('boom')"], tmp_path)


def test_only_selects_by_substring_and_rejects_unknown_names() -> None:
    assert list(select([])) == list(BENCHES)
    assert list(select(["multirun"])) == ["multirun-tiny-sd", "multirun-sd1-layout"]
    with pytest.raises(ValueError, match="matches no bench"):
        select(["nope"])


def test_results_md_has_context_machine_versions_and_every_row() -> None:
    rows = [
        Figure("first-image", "abstractvision run", "hand loop", (1.1, 1.2), (1.0, 1.0), Target("<=", 1.2), "one job"),
        Figure("first-image", "x", "y", (1.0,), (1.0,), None, "one job"),
        Unavailable("runner-batching", "batched", "not available: run.batch_size not implemented", Target(">=", 1.1)),
    ]
    text = render(rows, {"Command": "python -m bench --quick"}, notes=["extra note"])
    assert "- **Command**: python -m bench --quick" in text
    assert "- **CPUs**:" in text and "- **OS**:" in text
    assert "| diffusers |" in text
    row = "| abstractvision run / hand loop | **1.15x** | 1.10-1.20x | 1.15 s / 1.00 s | 2 | <= 1.2x | met |"
    assert row in text
    assert "not available: run.batch_size not implemented" in text
    assert text.count("- first-image: one job") == 1
    assert "- extra note" in text

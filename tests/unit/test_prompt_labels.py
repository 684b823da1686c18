"""Label columns of prompt files: carried with each job, never part of it (same ids, same seeds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from abstractvision.errors import InvalidParameterError
from abstractvision.pipeline.compose import load_run_config
from abstractvision.pipeline.plan import Plan
from abstractvision.pipeline.prompt_files import read_prompt_file, split_labels


def plan(tmp_path: Path, name: str, text: str) -> list:
    (tmp_path / name).write_text(text)
    config = load_run_config([f"sweep.file={tmp_path / name}", "steps=2", f"run.dir={tmp_path / 'run'}"])
    return list(Plan(config, cwd=tmp_path).jobs())


def test_label_columns_split_off_from_parameters(tmp_path: Path) -> None:
    (tmp_path / "p.jsonl").write_text('{"prompt": "a fox", "label.species": "fox", "label.score": 0.9}\n'
                                      '{"prompt": "a wolf"}\n')  # fmt: skip
    params, labels = split_labels(read_prompt_file(tmp_path / "p.jsonl"))
    assert params == [{"prompt": "a fox"}, {"prompt": "a wolf"}]
    assert labels == [{"species": "fox", "score": 0.9}, {}]


@pytest.mark.usefixtures("tiny_sd_path")
def test_labels_never_change_job_ids_or_seeds(tmp_path: Path) -> None:
    labelled = plan(tmp_path, "a.csv", "prompt,label.species\na red fox,fox\na grey wolf,wolf\n")
    plain = plan(tmp_path, "b.csv", "prompt\na red fox\na grey wolf\n")
    assert [(j.job_id, j.seed, j.identity) for j in labelled] == [(j.job_id, j.seed, j.identity) for j in plain]
    assert [json.loads(j.labels) for j in labelled] == [{"species": "fox"}, {"species": "wolf"}]
    assert [j.labels for j in plain] == [None, None]
    assert all("species" not in j.identity for j in labelled)


@pytest.mark.usefixtures("tiny_sd_path")
def test_rows_that_differ_only_in_labels_are_refused(tmp_path: Path) -> None:
    # Same prompt and seed: one job, one image; it cannot carry two sets of labels.
    with pytest.raises(InvalidParameterError, match=r"`sweep.file`: rows 1 and 3 are the same job .*different labels "
                       r"\(\{'species': 'fox'\} vs \{'species': 'dog'\}\)"):  # fmt: skip
        plan(tmp_path, "dup.csv", "prompt,label.species\na red fox,fox\na wolf,wolf\na red fox,dog\n")
    # With a seed column they are two jobs, each with its labels; identical rows still collapse into one job.
    jobs = plan(tmp_path, "ok.csv", "prompt,seed,label.species\na red fox,1,fox\na red fox,2,dog\na red fox,2,dog\n")
    assert len({j.job_id for j in jobs}) == 2
    assert [json.loads(j.labels)["species"] for j in jobs] == ["fox", "dog", "dog"]


def test_a_label_named_like_a_parameter_is_refused(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("prompt,label.steps\na fox,3\n")
    with pytest.raises(InvalidParameterError, match=r"label column 'label.steps' clashes with the field 'steps'"):
        split_labels(read_prompt_file(tmp_path / "p.csv"))
    with pytest.raises(InvalidParameterError, match="unknown parameter 'species'"):  # undeclared: a typo
        plan(tmp_path, "q.csv", "prompt,species\na fox,fox\n")

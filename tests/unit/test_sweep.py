"""Sweep expansion on plain data: grammar, products, pairs, prompt files and their errors."""

from __future__ import annotations

import pytest

from abstractvision.errors import InvalidParameterError
from abstractvision.pipeline.prompt_files import read_prompt_file
from abstractvision.pipeline.sweep import axis_values, grid_axis, make_sweep, rows_block, zip_block


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5,7.5", [5, 7.5]),
        ("range(0,4)", [0, 1, 2, 3]),
        ("range(0,10,3)", [0, 3, 6, 9]),
        ("range(0,1,0.25)", [0.0, 0.25, 0.5, 0.75]),
        ("choice(a,b)", ["a", "b"]),
        ("'a, b','c'", ["a, b", "c"]),
        ("a red fox", ["a red fox"]),
        ("a fox (in snow)", ["a fox (in snow)"]),
    ],
)
def test_axis_values_follow_hydra_grammar(text: str, expected: list) -> None:
    assert list(axis_values("k", text)) == expected


def test_lists_and_scalars_are_values() -> None:
    assert axis_values("k", [1, 2]) == [1, 2]
    assert axis_values("k", 3) == [3]


def test_a_range_stays_lazy() -> None:
    assert isinstance(axis_values("seed", "range(0,1000000000)"), range)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("range(0,)", "`seed`: malformed sweep 'range(0,)'"),
        ("a,b,", "`seed`: malformed sweep"),
        ("glob(a*)", "`seed`: glob() selects config group options"),
        ("interval(0,1)", "`seed`: interval() samples at random"),
        ("shuffle(1,2)", "`seed`: shuffle() is not supported"),
        ("range(0,4,0)", "range step must not be 0"),
    ],
)
def test_malformed_sweeps_name_the_key(text: str, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        axis_values("seed", text)


def test_grid_is_a_cartesian_product_with_the_last_axis_fastest() -> None:
    sweep = make_sweep([grid_axis("seed", "0,1"), grid_axis("guidance_scale", [5.0, 7.5])])
    assert len(sweep) == 4
    assert list(sweep.rows()) == [
        {"seed": 0, "guidance_scale": 5.0},
        {"seed": 0, "guidance_scale": 7.5},
        {"seed": 1, "guidance_scale": 5.0},
        {"seed": 1, "guidance_scale": 7.5},
    ]


def test_zip_pairs_values_and_needs_equal_lengths() -> None:
    block = zip_block({"prompt": ["a", "b"], "negative_prompt": ["x", "y"]}, "sweep.zip")
    sweep = make_sweep([block, grid_axis("seed", [0, 1, 2])])
    assert len(sweep) == 6
    assert next(sweep.rows()) == {"prompt": "a", "negative_prompt": "x", "seed": 0}
    with pytest.raises(InvalidParameterError, match=r"`sweep.zip`: paired \(zip\) axes need equal lengths"):
        zip_block({"prompt": ["a", "b"], "negative_prompt": ["x"]}, "sweep.zip")


def test_empty_and_duplicate_axes_are_refused() -> None:
    with pytest.raises(InvalidParameterError, match="`seed`: the sweep is empty"):
        make_sweep([grid_axis("seed", "range(0,0)")])
    with pytest.raises(InvalidParameterError, match="sweeps `prompt` a second time"):
        make_sweep([grid_axis("prompt", ["a"]), rows_block([{"prompt": "b"}], "sweep.file")])


def test_no_blocks_is_one_job() -> None:
    assert len(make_sweep([])) == 1
    assert list(make_sweep([]).rows()) == [{}]


def test_prompt_files(tmp_path) -> None:
    (tmp_path / "p.txt").write_text("# comment\na cat\n\na dog\n")
    (tmp_path / "p.jsonl").write_text('{"prompt": "a cat", "seed": 3}\n\n{"prompt": "a dog"}\n')
    (tmp_path / "p.csv").write_text("prompt,guidance_scale,negative_prompt\na cat,5,\na dog,7.5,blurry\n")
    assert read_prompt_file(tmp_path / "p.txt") == [{"prompt": "a cat"}, {"prompt": "a dog"}]
    assert read_prompt_file(tmp_path / "p.jsonl") == [{"prompt": "a cat", "seed": 3}, {"prompt": "a dog"}]
    assert read_prompt_file(tmp_path / "p.csv") == [
        {"prompt": "a cat", "guidance_scale": 5},
        {"prompt": "a dog", "guidance_scale": 7.5, "negative_prompt": "blurry"},
    ]
    block = rows_block(read_prompt_file(tmp_path / "p.jsonl"), "sweep.file")
    assert block.row(1) == {"prompt": "a dog", "seed": None}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.txt", None, "`sweep.file`: prompt file .* does not exist"),
        ("empty.txt", "# only a comment\n", "holds no rows"),
        ("bad.jsonl", "{not json}\n", r"bad.jsonl:1: not valid JSON"),
        ("list.jsonl", "[1, 2]\n", "each line must be a JSON object"),
        ("p.yaml", "prompt: x\n", "unknown prompt file type '.yaml'"),
    ],
)
def test_bad_prompt_files(tmp_path, name: str, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / name).write_text(content)
    with pytest.raises(InvalidParameterError, match=message):
        read_prompt_file(tmp_path / name)

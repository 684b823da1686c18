"""Composing overrides into a typed RunConfig and planning it: groups, axes, defaults, bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from abstractvision.errors import CapabilityNotSupportedError, InvalidParameterError
from abstractvision.pipeline.compose import group_options, load_run_config
from abstractvision.pipeline.plan import Plan


def plan(*overrides: str, cwd: Path | None = None) -> Plan:
    return Plan(load_run_config(list(overrides)), cwd=cwd)


def jobs(*overrides: str) -> list[dict]:
    return [json.loads(job.identity) for job in plan(*overrides).jobs()]


def test_defaults_compose_to_one_tiny_sd_job_with_model_defaults() -> None:
    config = load_run_config([])
    (combination,) = config.combinations
    assert (combination.backend, combination.model.name, combination.task) == ("diffusers", "tiny-sd", "text_to_image")
    assert combination.backend_options["device"] == "auto"
    (job,) = jobs()
    assert job["params"] == {
        "prompt": "a photo of a red fox in the snow",
        "width": 64,
        "height": 64,
        "steps": 4,
        "guidance_scale": 7.5,
    }


def test_parameter_axes_expand_on_plain_data_and_group_axes_compose() -> None:
    config = load_run_config(["prompt=a red fox", "seed=range(0,4)", "guidance_scale=5,7.5"])
    assert len(config.combinations) == 1
    assert len(list(Plan(config).jobs())) == 8
    config = load_run_config(["model=tiny-sd,tiny-sd-alt", "seed=0,1"])
    assert [c.model.name for c in config.combinations] == ["tiny-sd", "tiny-sd-alt"]
    assert len(Plan(config).groups) == 2
    assert len(list(Plan(config).jobs())) == 4


def test_glob_selects_group_options() -> None:
    config = load_run_config(["model=glob(tiny-sd*)"])
    assert [c.model.name for c in config.combinations] == ["tiny-sd", "tiny-sd-alt"]


def test_command_line_axis_replaces_the_sweep_configs_axis() -> None:
    assert {j["seed"] for j in jobs("sweep=seeds")} == set(range(8))
    assert {j["seed"] for j in jobs("sweep=seeds", "seed=3")} == {3}
    assert {j["seed"] for j in jobs("sweep=seeds", "sweep.seed=range(10,12)")} == {10, 11}


def test_zip_pairs_and_prompt_files_from_config() -> None:
    paired = jobs("sweep=prompt_pairs")
    assert len(paired) == 6
    assert {(j["params"]["prompt"], j["params"]["negative_prompt"]) for j in paired} == {
        ("a red fox in the snow", "blurry"),
        ("a castle on a mountain at night", "ugly"),
        ("a robot in a garden", "dark"),
    }
    assert len(jobs("+experiment=animals_dataset")) == 8


def test_zip_and_file_from_the_command_line(tmp_path) -> None:
    (tmp_path / "p.csv").write_text("prompt,guidance_scale\na cat,5\na dog,\n")
    rows = jobs("sweep.zip.prompt=a,b", "sweep.zip.negative_prompt=x,y")
    assert {(j["params"]["prompt"], j["params"]["negative_prompt"]) for j in rows} == {("a", "x"), ("b", "y")}
    rows = jobs(f"sweep.file={tmp_path / 'p.csv'}")
    assert [(j["params"]["prompt"], j["params"]["guidance_scale"]) for j in rows] == [("a cat", 5.0), ("a dog", 7.5)]


def test_explicit_default_values_give_the_same_jobs() -> None:
    assert jobs() == jobs("steps=4", "guidance_scale=7.5", "width=64")
    assert jobs("guidance_scale=5") == jobs("guidance_scale=5.0")


def test_ids_do_not_depend_on_axis_order_and_adding_values_keeps_old_ones() -> None:
    a = {j.job_id: j.seed for j in plan("seed=0,1", "guidance_scale=5,7.5").jobs()}
    b = {j.job_id: j.seed for j in plan("guidance_scale=7.5,5", "seed=1,0").jobs()}
    c = {j.job_id: j.seed for j in plan("seed=0,1,2", "guidance_scale=5,7.5,9").jobs()}
    assert a == b
    assert a.items() <= c.items() and len(c) == 9
    derived = {j.job_id: j.seed for j in plan("prompt=a,b").jobs()}
    more = {j.job_id: j.seed for j in plan("prompt=a,b,c").jobs()}
    assert derived.items() <= more.items()


def test_base_seed_changes_derived_seeds_only() -> None:
    assert jobs("run.base_seed=1")[0]["seed"] != jobs()[0]["seed"]
    assert jobs("seed=5", "run.base_seed=1") == jobs("seed=5")


def test_run_dir_is_named_by_the_config_not_by_run_settings() -> None:
    base = load_run_config(["seed=0,1"]).run_dir()
    assert base == load_run_config(["seed=0,1", "run.retries=5", "run.dry_run=true"]).run_dir()
    assert base != load_run_config(["seed=0,2"]).run_dir()
    assert base.parent == Path("runs") and base.name.startswith("tiny-sd-")
    assert load_run_config(["run.dir=x/y"]).run_dir() == Path("x/y")


def test_image_inputs_are_identified_by_content(tmp_path) -> None:
    for name in ("a.png", "b.png"):
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), "red").save(buffer, format="PNG")
        (tmp_path / name).write_bytes(buffer.getvalue())
    a = list(plan("task=image_to_image", "image=a.png", cwd=tmp_path).jobs())
    b = list(plan("task=image_to_image", f"image={tmp_path / 'b.png'}", cwd=tmp_path).jobs())
    assert a[0].job_id == b[0].job_id
    assert json.loads(a[0].identity)["params"]["image"].startswith("sha256:")
    assert json.loads(a[0].inputs) == {"image": str(tmp_path / "a.png")}
    assert json.loads(a[0].identity)["params"]["strength"] == 0.75


def test_user_config_dir_adds_options(tmp_path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "mine.yaml").write_text(
        "name: mine\nsource: builtin:tiny-sd\ntasks: [text_to_image]\nparam_defaults: {width: 32, steps: 2}\n"
    )
    assert "mine" in group_options("model", [tmp_path])
    config = load_run_config(["model=mine"], [tmp_path])
    (job,) = [json.loads(j.identity) for j in Plan(config).jobs()]
    assert (job["model"], job["params"]["width"], job["params"]["steps"]) == ("mine", 32, 2)


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        (["model=nope"], InvalidParameterError, r"`model`: unknown option 'nope'; valid options are \[.*'tiny-sd'"),
        (["model=tiny-sd,nope"], InvalidParameterError, "`model`: unknown option 'nope'"),
        (["+experiment=nope"], InvalidParameterError, "`experiment`: unknown option 'nope'"),
        (["model=glob(zzz*)"], InvalidParameterError, "`model`: the sweep 'model=glob\\(zzz\\*\\)' selects no option"),
        (["colour=red"], InvalidParameterError, "`colour`: unknown config key"),
        (["sweep.grid.colour=1,2"], InvalidParameterError, "`sweep.grid.colour`: unknown sweep key"),
        (["sweep.zip.colour=[1,2]"], InvalidParameterError, "`sweep.zip.colour`: unknown sweep key"),
        (["backend.device=cpu,cuda"], InvalidParameterError, "`backend.device`: only generation parameters"),
        (["run=default,default"], InvalidParameterError, "`run`: cannot be swept"),
        (["seed=range(0,)"], InvalidParameterError, "`seed`: malformed override 'seed=range\\(0,\\)'"),
        (["run.retries=-1"], InvalidParameterError, "`run.retries`: must be an integer >= 0"),
        (["run.verify=md5"], InvalidParameterError, "`run.verify`: must be one of"),
    ],
)
def test_bad_overrides_fail_naming_the_key(overrides: list[str], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        load_run_config(overrides)


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        (["seed=range(0,0)"], InvalidParameterError, "`seed`: the sweep is empty"),
        (["width=65"], InvalidParameterError, "`width`: must be a positive multiple of 8, got 65; use 64 or 72"),
        (["width=64,65"], InvalidParameterError, "`width`: must be a positive multiple of 8, got 65"),
        (["steps=two"], InvalidParameterError, "`steps`: must be an integer, got 'two'"),
        (["seed=-1"], InvalidParameterError, "`seed`: must be an integer in"),
        (["sweep.file=missing.txt"], InvalidParameterError, "`sweep.file`: prompt file '.*missing.txt' does not exist"),
        (["task=image_to_image", "image=missing.png"], InvalidParameterError, "`image`: cannot read 'missing.png'"),
        (
            ["task=image_to_image"],
            InvalidParameterError,
            "`image`: is required by task 'image_to_image'; set image=...",
        ),
        (["strength=0.5"], InvalidParameterError, "`strength`: is not used by task 'text_to_image'"),
        (["strength=0.5,0.7"], InvalidParameterError, "`strength`: is not used by task 'text_to_image'"),
        (["task=text_to_video"], CapabilityNotSupportedError, "model 'tiny-sd' does not support task 'text_to_video'"),
        (["prompt=a", "sweep.file=prompts/animals.txt"], InvalidParameterError, "sweeps `prompt` a second time"),
        (["sweep.zip.prompt=a,b", "sweep.zip.seed=1,2,3"], InvalidParameterError, "need equal lengths"),
    ],
)
def test_bad_values_fail_at_planning_naming_the_key(overrides: list[str], error: type, message: str, tmp_path) -> None:
    with pytest.raises(error, match=message):
        plan(*overrides, cwd=tmp_path)


def test_unreadable_image_is_refused(tmp_path) -> None:
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(InvalidParameterError, match="`image`: does not decode as an image"):
        plan("task=image_to_image", "image=bad.png", cwd=tmp_path)


def test_planning_and_the_run_command_never_import_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, io; from abstractvision.pipeline.compose import load_run_config; "
        "from abstractvision.pipeline.runner import Runner; import abstractvision.commands.run; "
        "Runner(load_run_config(['seed=range(0,3)', 'run.dry_run=true']), out=io.StringIO()).run(); "
        "assert 'torch' not in sys.modules and 'diffusers' not in sys.modules, 'heavy import'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_shipped_model_and_experiment_composes() -> None:
    """Hydra reserves a top-level `defaults` key: model files must spell theirs `param_defaults`."""
    models = group_options("model")
    config = load_run_config([f"model={','.join(models)}"])
    assert [c.model.name for c in config.combinations] == models
    for experiment in group_options("experiment"):
        assert load_run_config([f"+experiment={experiment}"]).combinations


def test_secrets_are_redacted_from_what_the_runner_records() -> None:
    from abstractvision.pipeline.config import redact, redact_overrides

    assert redact({"api_key": "sk-1", "base_url": "http://127.0.0.1"}) == {
        "api_key": "<redacted>",
        "base_url": "http://127.0.0.1",
    }
    assert redact_overrides(["backend.api_key=sk-1", "seed=1"]) == ["backend.api_key=<redacted>", "seed=1"]

"""One search order for configs: ./conf, then --config-dir folders, then the package's shipped defaults."""

from __future__ import annotations

import json
from pathlib import Path

from abstractvision.config_dirs import CONFIG_DIR, user_config_dirs
from abstractvision.pipeline.compose import group_options, load_run_config
from abstractvision.pipeline.plan import Plan
from abstractvision.registry import ModelRegistry

REPO = Path(__file__).resolve().parents[2]


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def model_yaml(name: str, width: int) -> str:
    return f"name: {name}\nsource: builtin:tiny-sd\ntasks: [text_to_image]\nparam_defaults: {{width: {width}}}\n"


def test_local_conf_comes_first_then_config_dirs_then_the_package(tmp_path: Path) -> None:
    write(tmp_path / "conf" / "model" / "tiny-sd.yaml", model_yaml("tiny-sd", 32))
    write(tmp_path / "conf" / "prompts" / "p.txt", "from ./conf\n")
    extra = tmp_path / "extra"
    write(extra / "model" / "tiny-sd.yaml", model_yaml("tiny-sd", 48))
    write(extra / "model" / "only-extra.yaml", model_yaml("only-extra", 16))
    write(extra / "prompts" / "p.txt", "from --config-dir\n")

    dirs = user_config_dirs([extra], cwd=tmp_path)
    assert dirs == (tmp_path / "conf", extra)
    assert user_config_dirs([extra], cwd=extra) == (extra,)

    def width(config_dirs: tuple[Path, ...]) -> int:
        (job,) = Plan(load_run_config(["model=tiny-sd"], config_dirs)).jobs()
        return json.loads(job.identity)["params"]["width"]

    assert (width(dirs), width((extra,)), width(())) == (32, 48, 64)
    assert [ModelRegistry(d).get("tiny-sd").defaults["width"] for d in (dirs, (extra,), ())] == [32, 48, 64]
    assert {"only-extra", "tiny-sd", "tiny-sd-alt"} <= set(group_options("model", dirs))
    prompts = [
        json.loads(job.identity)["params"]["prompt"]
        for config_dirs in (dirs, (extra,))
        for job in Plan(load_run_config(["sweep.file=prompts/p.txt"], config_dirs), cwd=tmp_path).jobs()
    ]
    assert prompts == ["from ./conf", "from --config-dir"]


def test_the_repositorys_conf_example_composes_from_the_repository_root() -> None:
    dirs = user_config_dirs(cwd=REPO)
    assert dirs == (REPO / "conf",)
    assert "seasons" in group_options("experiment", dirs) and "seasons" not in group_options("experiment")
    jobs = [json.loads(job.identity) for job in Plan(load_run_config(["+experiment=seasons"], dirs), cwd=REPO).jobs()]
    lines = (REPO / "conf" / "prompts" / "seasons.txt").read_text().splitlines()
    prompts = [line for line in lines if line and not line.startswith("#")]
    assert sorted({j["params"]["prompt"] for j in jobs}) == sorted(prompts)
    assert len(jobs) == 2 * len(prompts)


def test_the_package_ships_no_backend_or_run_yaml() -> None:
    """Their defaults live in the config dataclasses only (see test_config_schemas)."""
    assert not list((CONFIG_DIR / "backend").glob("*.yaml")) and not list((CONFIG_DIR / "run").glob("*.yaml"))
    assert group_options("backend") == ["diffusers", "openai", "sdcpp"]
    assert group_options("run") == ["default"]

"""Schemas: the backend and run options come from the config dataclasses, typos and wrong types are named."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from abstractvision.backends.factory import BACKENDS, config_class
from abstractvision.backends.options import MODEL, names_with_role
from abstractvision.errors import InvalidParameterError
from abstractvision.pipeline.compose import load_run_config
from abstractvision.pipeline.config import RunSettings


def defaults_of(cls: type) -> dict:
    """The defaults of every field but the one naming the model (the model group names it)."""
    return {
        f.name: f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        for f in dataclasses.fields(cls)
        if f.name not in names_with_role(cls, MODEL)
    }


@pytest.mark.parametrize("kind", sorted(BACKENDS))
def test_each_backend_option_holds_its_dataclass_defaults(kind: str) -> None:
    (combination,) = load_run_config([f"backend={kind}"]).combinations
    assert combination.backend == kind
    assert dict(combination.backend_options) == defaults_of(config_class(kind))


def test_the_run_option_holds_the_run_settings_defaults() -> None:
    assert load_run_config([]).run == RunSettings()
    assert load_run_config(["run.retries=5", "run.retry_delay_s=2"]).run.retry_delay_s == 2.0


def test_a_users_backend_yaml_extends_a_structured_option(tmp_path: Path) -> None:
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / "my-server.yaml").write_text(
        "defaults: [openai]\nbase_url: http://127.0.0.1:9000/v1\nprofile: vllm-omni\ntimeout_s: 30\n"
    )
    (combination,) = load_run_config(["backend=my-server", "backend.n=2"], [tmp_path]).combinations
    expected = {
        **defaults_of(config_class("openai")),
        "base_url": "http://127.0.0.1:9000/v1",
        "profile": "vllm-omni",
        "timeout_s": 30.0,
        "n": 2,
    }
    assert combination.backend == "openai" and dict(combination.backend_options) == expected
    (tmp_path / "backend" / "typo.yaml").write_text("defaults: [openai]\nbase_ulr: http://127.0.0.1:9000/v1\n")
    with pytest.raises(InvalidParameterError, match=r"`backend.base_ulr`: .*did you mean `backend.base_url`\?"):
        load_run_config(["backend=typo"], [tmp_path])


def test_a_plain_backend_yaml_is_checked_against_its_backends_schema(tmp_path: Path) -> None:
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / "plain.yaml").write_text("name: sdcpp\nthreads: '4'\nmodel_dir: /models\n")
    (combination,) = load_run_config(["backend=plain"], [tmp_path]).combinations
    assert dict(combination.backend_options) == {"threads": 4, "model_dir": "/models"}
    (tmp_path / "backend" / "plain.yaml").write_text("name: sdcpp\nthreads: many\n")
    with pytest.raises(InvalidParameterError, match=r"`backend\.threads`: must be an integer, got 'many'"):
        load_run_config(["backend=plain"], [tmp_path])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["backend.devise=cpu"], "`backend.devise`: unknown config key; did you mean `backend.device`? valid keys are"),
        (["+backend.devise=cpu"], "`backend.devise`: unknown config key; did you mean `backend.device`?"),
        (["run.retrie=3"], "`run.retrie`: unknown config key; did you mean `run.retries`? valid keys are"),
        (["+run.retrie=3"], "`run.retrie`: unknown config key; did you mean `run.retries`?"),
        (
            ["model.param_defaults.stepz=3"],
            "`model.param_defaults.stepz`: unknown config key; did you mean `model.param_defaults.steps`?",
        ),
        (["+model.param_defaults.stepz=3"], "`model.param_defaults.stepz`: unknown key in model=tiny-sd; did you"),
        (["model.param_defaults.fps=8"], "`model.param_defaults.fps`: not set by the chosen config; add it with +"),
        (["run.retries=2.5"], "`run.retries`: must be an integer, got 2.5"),
        (["run.retries=true"], "`run.retries`: must be an integer, got True"),
        (["backend=openai", "backend.timeout_s=soon"], "`backend.timeout_s`: must be a number, got 'soon'"),
        (["backend.loras=3"], "`backend.loras`: must be a list, got 3"),
        (["run.concurrency=0"], "`run.concurrency`: must be an integer >= 1, got 0"),
    ],
)
def test_typos_and_wrong_types_name_the_key_and_the_rule(overrides: list[str], message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        load_run_config(overrides)
    assert message in str(info.value)
    assert "To append" not in str(info.value)


def test_unknown_key_lists_the_valid_keys() -> None:
    with pytest.raises(InvalidParameterError) as info:
        load_run_config(["run.retrie=3"])
    valid = sorted(f.name for f in dataclasses.fields(RunSettings))
    assert str(info.value).endswith(f"valid keys are {valid}")


def test_the_docs_backend_model_and_run_examples_compose(tmp_path: Path) -> None:
    """The YAML examples of docs/configuration.md, verbatim, in a config folder."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", docs, re.S)
    (backend,) = [b for b in blocks if b.startswith("# conf/backend/my-server.yaml")]
    (model,) = [b for b in blocks if b.startswith("# conf/model/mine.yaml")]
    for path, text in (("backend/my-server.yaml", backend), ("model/mine.yaml", model)):
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_text(text)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "patient.yaml").write_text("defaults: [default]\nretries: 5\n")
    config = load_run_config(["backend=my-server", "model=mine", "run=patient"], [tmp_path])
    (combination,) = config.combinations
    assert (combination.backend, combination.backend_options["profile"], combination.model.source) == (
        "openai",
        "vllm-omni",
        "/models/my-sd15",
    )
    assert combination.model.defaults == {"width": 512, "height": 512, "steps": 25, "guidance_scale": 7.5}
    assert (config.run.retries, config.run.retry_delay_s) == (5, RunSettings().retry_delay_s)


def test_a_model_files_defaults_mapping_says_param_defaults(tmp_path: Path) -> None:
    """``defaults:`` is Hydra's list in a config file: a model's defaults written there get the key's real name."""
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "mine.yaml").write_text("name: mine\nsource: a/b\ndefaults: {width: 512}\n")
    with pytest.raises(InvalidParameterError, match=r"`model\.defaults`: in model=mine, .*`param_defaults:`"):
        load_run_config(["model=mine"], [tmp_path])

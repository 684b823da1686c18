"""The registry is the Hydra model group: every shipped model config parses into a ModelSpec."""

from __future__ import annotations

import pytest

from abstractvision import InvalidParameterError, ModelNotFoundError, ModelRegistry, default_registry
from abstractvision.tasks import TASKS


def test_shipped_models_parse():
    registry = default_registry()
    assert {"tiny-sd", "tiny-sd-alt", "sd-turbo", "sdxl-turbo", "sd15"} <= set(registry.names())
    for name in registry.names():
        spec = registry.get(name)
        assert spec.tasks and set(spec.tasks) <= set(TASKS), name
        assert spec.backends, name


def test_find_by_name_or_source():
    registry = default_registry()
    assert registry.find("sd-turbo").name == "sd-turbo"
    assert registry.find("stabilityai/sd-turbo").name == "sd-turbo"
    assert registry.find("someone/unlisted") is None


def test_user_config_dir_adds_models(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "mine.yaml").write_text(
        "name: mine\nsource: /models/mine\ntasks: [text_to_image]\nbackends: [diffusers]\ndefaults: {width: 256}\n"
    )
    registry = ModelRegistry(extra_dirs=[tmp_path])
    assert registry.get("mine").defaults["width"] == 256
    assert "tiny-sd" in registry.names()


@pytest.mark.parametrize(
    ("yaml_text", "fragment"),
    [
        ("name: m\nsource: s\nwidht: 3\n", "`model.widht`: unknown key"),
        ("name: m\n", "`model.source`: missing"),
        ("name: m\nsource: s\ntasks: [paint]\n", "`model.tasks`: ['paint']"),
        ("name: m\nsource: s\ndefaults: {stpes: 3}\n", "`model.defaults.stpes`: unknown"),
        (
            "name: m\nsource: s\nparam_defaults: {stepz: 3}\n",
            "`model.param_defaults.stepz`: unknown key in ",
        ),
        ("name: m\nsource: s\nparam_defaults: {stepz: 3}\n", "did you mean `model.param_defaults.steps`? valid keys"),
        ("name: m\nsource: s\nparam_defaults: {steps: many}\n", "`model.param_defaults.steps`: must be an integer"),
        ("name: m\nsource: s\ntasks: text_to_image\n", "`model.tasks`: must be a list, got 'text_to_image'"),
        ("- m\n- s\n", "`model`: must be a mapping of keys"),
        ("name: m\nsource: s\nsizes: [720*480]\n", "`model.sizes`: ['720*480'] in "),
    ],
)
def test_bad_model_config_names_the_key(tmp_path, yaml_text, fragment):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "bad.yaml").write_text(yaml_text)
    with pytest.raises(InvalidParameterError) as info:
        ModelRegistry(extra_dirs=[tmp_path])
    assert fragment in str(info.value)
    assert "bad.yaml" in str(info.value)


def test_unknown_model_error_is_a_lookup_error():
    with pytest.raises(LookupError):
        default_registry().get("nope")
    assert issubclass(ModelNotFoundError, LookupError)

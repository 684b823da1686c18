"""``abstractvision serve`` takes its backend and model from flags or from config overrides, as ``run`` does."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest
import requests
from fault_server import Reply, png_bytes
from server_processes import serve

pytestmark = pytest.mark.slow


def test_config_overrides_choose_backend_options_and_model(fault_server, tmp_path):
    item = {"b64_json": base64.b64encode(png_bytes()).decode(), "seed": 5}
    fault_server.script("POST", "/v1/images/generations", Reply(json={"created": 1, "data": [item]}))
    overrides = ["backend=openai", f"backend.base_url={fault_server.base_url}", "backend.max_retries=0"]
    overrides.append("model=sd-turbo")
    for server in serve(tmp_path, *overrides):
        health = requests.get(server.base_url.removesuffix("/v1") + "/health", timeout=10).json()
        answer = requests.post(f"{server.base_url}/images/generations", json={"prompt": "a fox", "seed": 5}, timeout=30)
    assert (health["backend"], health["model"]) == ("openai", "sd-turbo")
    assert answer.status_code == 200 and answer.json()["data"][0]["seed"] == 5
    forwarded = fault_server.received[-1].json()
    # sd-turbo's registry defaults were filled in by the serving side, then forwarded upstream.
    assert (forwarded["model"], forwarded["size"], forwarded["steps"]) == ("sd-turbo", "512x512", 1)


def test_flags_and_overrides_together_are_refused():
    result = subprocess.run(
        [sys.executable, "-m", "abstractvision.cli", "serve", "--backend", "openai", "model=tiny-sd"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "`--backend`" in result.stderr and "not both" in result.stderr


def test_model_flag_finds_a_model_of_a_config_dir(tmp_path):
    """`serve --config-dir cfg --model mine` serves cfg's model, as `run` would (it was an unknown model)."""
    from abstractvision.cli import build_parser
    from abstractvision.commands.serve import backend_and_model

    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "mine.yaml").write_text("name: mine\nsource: builtin:tiny-sd\nfamily: sd1\n")
    args = build_parser().parse_args(["serve", "--config-dir", str(tmp_path), "--model", "mine"])
    args.extra = []
    backend, served_as = backend_and_model(args)
    assert served_as == "mine"
    assert backend.model_spec is not None and backend.model_spec.source == "builtin:tiny-sd"

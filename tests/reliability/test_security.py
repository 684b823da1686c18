"""Security of runs: API keys reach no file and no output, user text never becomes a path, configs build no
class named by a user string, and ``url`` answers are fetched only from allowed origins.

The server the runs talk to is the integration suites' fault server (a real HTTP server on 127.0.0.1).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from bad_inputs import FaultServer, Reply, cli_in_process, models_ok, png_bytes, upstream
from PIL import Image

from abstractvision import VisionManager
from abstractvision.backends.factory import create_backend
from abstractvision.errors import InvalidParameterError

ENV_KEY = "sk-env-secret-7f3a9c1e5b"
CONFIG_KEY = "sk-config-secret-2d8e6b4a0c"
GENERATIONS = "/v1/images/generations"
FORMATS = ("imagefolder", "parquet", "webdataset", "captions")


def ok() -> Reply:
    return Reply(json={"created": 1, "data": [{"b64_json": base64.b64encode(png_bytes(size=32)).decode()}]})


@pytest.fixture
def api() -> Iterator[FaultServer]:
    with upstream() as server:
        models_ok(server)
        server.script("POST", GENERATIONS, ok())
        yield server


def texts_of(path: Path) -> list[str]:
    """What a file says, decoded where its bytes could hide text: PNG text chunks, parquet cells."""
    data = path.read_bytes()
    found = [data.decode("latin-1")]
    if data.startswith(b"\x89PNG"):
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            found += [str(v) for v in image.text.values()]
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        found.append(json.dumps(pq.read_table(path).to_pylist(), default=str))
    return found


def leaks(folder: Path, *secrets: str) -> list[str]:
    """Files under ``folder`` that hold any of ``secrets``."""
    return [str(p) for p in folder.rglob("*") if p.is_file() and any(s in t for t in texts_of(p) for s in secrets)]


@pytest.mark.slow
def test_api_keys_reach_no_file_and_no_output(api: FaultServer, tmp_path: Path, monkeypatch, caplog) -> None:
    """Two runs, the key from the environment and from a backend preset in a --config-dir; a job whose error
    echoes the key; then every reader of the run. Every file and everything printed is scanned."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AV_TEST_SECRET", ENV_KEY)
    (tmp_path / "cfg" / "backend").mkdir(parents=True)
    (tmp_path / "cfg" / "backend" / "keyed.yaml").write_text(
        f"defaults: [openai]\nbase_url: {api.base_url}\napi_key: {CONFIG_KEY}\nmax_retries: 0\n"
    )
    common = ("run.progress=true", "run.retries=0", "seed=range(0,3)", "width=32", "height=32")
    env_run = ["run", "backend=openai", f"backend.base_url={api.base_url}", "backend.api_key_env=AV_TEST_SECRET"]
    printed = []
    # The CLI in a process of its own once, verbose, so its logging setup prints every log line to stderr.
    process = subprocess.run(
        [sys.executable, "-m", "abstractvision.cli", "-v", *env_run, *common, "run.dir=runs/env"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AV_TEST_SECRET": ENV_KEY},
    )
    assert process.returncode == 0, process.stderr
    printed += [process.stdout, process.stderr]
    echo = Reply(400, json={"error": {"message": f"key {CONFIG_KEY} is not allowed this prompt"}})
    api.script("POST", GENERATIONS, ok(), ok(), echo)
    keyed = ["run", "--config-dir", "cfg", "backend=keyed", *common, "run.dir=runs/keyed"]
    failed = cli_in_process(*keyed)
    assert failed.code == 1 and "key *** is not allowed" in failed.text, failed.text
    api.script("POST", GENERATIONS, ok())
    outcomes = [
        failed,
        cli_in_process("run", "--cfg", "job", "--config-dir", "cfg", "backend=keyed"),
        cli_in_process(*env_run, "--cfg", "job"),
        cli_in_process("run", "--config-dir", "cfg", "backend=keyed", "backend.api_key=nope", "run.dry_run=true"),
    ]
    for run in ("env", "keyed"):
        folder = f"runs/{run}"
        outcomes += [
            cli_in_process("status", folder),
            cli_in_process("status", folder, "--json", "--export-jsonl", f"{run}.jsonl"),
            cli_in_process("gallery", folder),
            cli_in_process("grid", folder),
            *(cli_in_process("export", folder, "--format", f, "--out", f"{run}-{f}") for f in FORMATS),
        ]
    outcomes.append(cli_in_process("verify", "runs/env", "--backend-option", "api_key_env=AV_TEST_SECRET"))
    assert [o.code for o in outcomes[1:]] == [0] * (len(outcomes) - 1), [o.text for o in outcomes if o.code]
    assert "<redacted>" in outcomes[1].text and "<redacted>" in outcomes[2].text
    printed += [o.text for o in outcomes] + [caplog.text]
    assert {r.headers.get("Authorization") for r in api.received} == {f"Bearer {ENV_KEY}", f"Bearer {CONFIG_KEY}"}
    assert [i for i, text in enumerate(printed) if ENV_KEY in text or CONFIG_KEY in text] == []
    files = [p for p in tmp_path.rglob("*") if p.is_file() and "cfg" not in p.parts]
    assert {p.suffix for p in files} >= {".sqlite", ".png", ".json", ".jsonl", ".html", ".parquet", ".tar", ".txt"}
    assert leaks(tmp_path / "runs", ENV_KEY, CONFIG_KEY) == []
    assert [str(p) for p in files if any(s in t for t in texts_of(p) for s in (ENV_KEY, CONFIG_KEY))] == []


def test_prompts_and_labels_never_become_paths(api: FaultServer, tmp_path: Path, monkeypatch) -> None:
    """A prompt and a label shaped like paths out of the run folder: outputs and exports are named by job id."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "p.csv").write_text("prompt,label.kind\n../../escape-prompt,../../escape-label/x\n/abs/escape,a/b\\c\n")
    result = cli_in_process("run", "backend=openai", f"backend.base_url={api.base_url}", "sweep.file=p.csv",
                            "run.dir=runs/r", "run.progress=false")  # fmt: skip
    assert result.code == 0, result.text
    for fmt in ("imagefolder", "webdataset", "captions"):
        assert cli_in_process("export", "runs/r", "--format", fmt, "--out", f"ds-{fmt}").code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert not list(tmp_path.rglob("escape*")) and not Path("/abs/escape").exists()
    outputs = sorted(p.name for p in (work / "runs" / "r" / "outputs").iterdir())
    ids = {name.split(".")[0] for name in outputs}
    assert len(ids) == 2 and all(len(i) >= 16 and i.isalnum() for i in ids), outputs
    for fmt in ("imagefolder", "captions"):
        names = {p.stem for p in (work / f"ds-{fmt}").rglob("*.png")}
        assert names == ids, names


def test_config_strings_import_nothing(tmp_path: Path, monkeypatch) -> None:
    """``_target_`` keys and class names in configs and requests: refused, and a module that would write a
    marker on import (importable from the working folder) is never imported."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    marker = tmp_path / "imported"
    (tmp_path / "evil.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\nclass EvilScheduler: pass\nclass Evil: pass\n"
    )
    (tmp_path / "cfg" / "model").mkdir(parents=True)
    (tmp_path / "cfg" / "model" / "evil.yaml").write_text("name: evil\nsource: builtin:tiny-sd\n_target_: evil.Evil\n")
    (tmp_path / "cfg" / "backend").mkdir()
    (tmp_path / "cfg" / "backend" / "evil.yaml").write_text("defaults: [diffusers]\n_target_: evil.Evil\n")
    attempts = {
        "+_target_=evil.Evil": "`_target_`",
        "+backend._target_=evil.Evil": "`backend._target_`: unknown config key",
        "backend.scheduler=evil.EvilScheduler": "`backend.scheduler`: unknown scheduler 'evil.EvilScheduler'",
        "+extra.scheduler=evil.EvilScheduler": "`extra.scheduler`: unknown scheduler 'evil.EvilScheduler'",
        "backend.scheduler=os.system": "`backend.scheduler`: unknown scheduler 'os.system'",
        "backend=evil": "`backend._target_`: unknown key in backend/evil",
        "model=evil": "_target_",
        "backend=subprocess.Popen": "`backend`: unknown option 'subprocess.Popen'",
    }
    for override, words in attempts.items():
        result = cli_in_process("run", "--config-dir", "cfg", override, "run.dry_run=true")
        assert result.code == 2 and words in result.text, (override, result.text)
    assert "evil" not in sys.modules and not marker.exists()
    assert list(tmp_path.glob("runs")) == []


def test_url_answers_come_only_from_allowed_origins_and_others_never_get_the_key(api: FaultServer) -> None:
    image = Reply(body=png_bytes(), content_type="image/png")
    with upstream() as other:
        other.script("GET", "/elsewhere.png", image)
        api.script("GET", "/own.png", image)
        own_url, other_url = f"{api.base_url[:-3]}/own.png", f"{other.base_url[:-3]}/elsewhere.png"
        other_origin = other.base_url.removesuffix("/v1")

        def generate(url: str, **options: object) -> object:
            api.script("POST", GENERATIONS, Reply(json={"created": 1, "data": [{"url": url}]}))
            config = {"base_url": api.base_url, "api_key": ENV_KEY, "response_format": "url", **options}
            return VisionManager(create_backend("openai", None, config)).generate_image("a fox", seed=1)

        assert generate(own_url).metadata["response"]["format"] == "url"
        assert api.received[-1].headers["Authorization"] == f"Bearer {ENV_KEY}"
        with pytest.raises(InvalidParameterError, match=r"`backend\.url_origins`") as refused:
            generate(other_url)
        assert other_origin in str(refused.value) and ENV_KEY not in str(refused.value)
        assert other.received == []  # refused before any request went there
        assert generate(other_url, url_origins=[other_origin]).mime_type == "image/png"
        assert len(other.received) == 1 and "Authorization" not in other.received[0].headers

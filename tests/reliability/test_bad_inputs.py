"""The bad-input table: every row is one hostile or mistaken input to the CLI, a config, a prompt file, an
image, a mask, a video parameter, a request to the built-in server or an answer from an HTTP server.

For each row: the exit code (or HTTP status) expected, words of its message that name the field or the cause,
no traceback, and nothing written (the working folder unchanged; for a server's bad answer, no output file).
The CLI runs in-process (``cli_in_process``), so the table costs one interpreter, not one per row.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from bad_inputs import (
    FaultServer,
    Outcome,
    Reply,
    ServerProcess,
    cli_in_process,
    models_ok,
    png_bytes,
    png_declaring,
    serve,
    snapshot,
    upstream,
)

KEY = "sk-bad-input-0123456789"
GENERATIONS = "/v1/images/generations"
FAST_HTTP = ("backend.max_retries=0", "backend.backoff_s=0", "run.retries=0", "run.progress=false")


@dataclass
class Context:
    """What a row acts in: a fresh working folder, and the servers, started on first use."""

    folder: Path
    request: pytest.FixtureRequest

    def server(self) -> ServerProcess:
        return self.request.getfixturevalue("served")

    def upstream(self) -> FaultServer:
        return self.request.getfixturevalue("fault_upstream")


@dataclass(frozen=True)
class Row:
    id: str
    act: Callable[[Context], Outcome]
    code: int
    words: tuple[str, ...]
    files: Mapping[str, bytes | str] = field(default_factory=dict)
    outputs_only: bool = False  # the run starts (the server's answer is bad): only no output may appear


def cli(id: str, argv: str | list[str], *words: str, code: int = 2, files: Mapping[str, bytes | str] = {}) -> Row:
    args = argv.split() if isinstance(argv, str) else argv
    if args[0] == "run":
        args = [*args, "run.progress=false"]
    return Row(id, lambda ctx: cli_in_process(*args), code, words, files)


def prompts(id: str, name: str, content: bytes | str, *words: str) -> Row:
    """A run whose prompt file ``name`` holds ``content``."""
    return cli(id, f"run sweep.file={name}", *words, files={name: content})


def answer(id: str, reply: Reply, *words: str, options: tuple[str, ...] = ()) -> Row:
    """A run against a server answering ``reply`` to every generation."""

    def act(ctx: Context) -> Outcome:
        server = ctx.upstream()
        models_ok(server)
        server.script("POST", GENERATIONS, reply)
        base = ("run", "backend=openai", f"backend.base_url={server.base_url}", "seed=1", *FAST_HTTP)
        return cli_in_process(*base, *options)

    return Row(id, act, 1, words, outputs_only=True)


def request(id: str, path: str, status: int, *words: str, key: str | None = KEY, **send: Any) -> Row:
    """One request to ``abstractvision serve`` (an API key, 1 MB uploads)."""

    def act(ctx: Context) -> Outcome:
        server = ctx.server()
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = requests.post(f"{server.base_url}{path}", headers=headers, timeout=60, **send)
        return Outcome(response.status_code, response.text)

    return Row(id, act, status, words)


IMAGE = png_bytes(size=64)
BOMB = png_declaring(30000, 30000)  # 900 M pixels: Pillow's own bomb guard
TALL = png_declaring(64, 20000)  # under Pillow's guard, over ours
EDITS = "/images/edits"


def edit(image: bytes, **fields: str) -> dict[str, Any]:
    return {"files": {"image": ("in.png", image, "image/png")}, "data": {"prompt": "a fox", **fields}}


ROWS = [
    # --- the CLI's own flags and subcommands
    cli("run-unknown-flag", "run --colour", "`--colour`: unknown option of `abstractvision run`"),
    cli("run-unknown-model", "run model=nope", "`model`: unknown option 'nope'"),
    cli("generate-strength-without-image", "generate x --strength 0.5", "`--strength`: needs --image"),
    cli("generate-mask-without-image", "generate x --mask m.png", "`--mask`: needs --image"),
    cli("generate-missing-image", "generate x --image missing.png", "`--image`: cannot read 'missing.png'"),
    cli("generate-width", "generate x --width 65", "`width`: must be a positive multiple of 8, got 65"),
    cli("generate-backend", "generate x --backend nope", "`backend`: unknown backend 'nope'"),
    cli("generate-option", "generate x --option devise", "`--option`: expected KEY=VALUE"),
    cli("serve-port", "serve --port 99999", "`--port`: must be in 0-65535, got 99999"),
    cli("serve-upload-limit", "serve --port 0 --max-upload-mb 0", "`--max-upload-mb`: must be > 0"),
    cli("serve-waiting", "serve --port 0 --max-waiting 0", "`max_waiting`: must be >= 1"),
    cli("serve-concurrent", "serve --port 0 --max-concurrent 2", "`max_concurrent`", "not thread-safe"),
    cli("serve-option", "serve --port 0 --option devise=cpu", "`backend.devise`", "did you mean `backend.device`?"),
    cli("status-not-a-run", "status .", "is not a run folder (no manifest.sqlite)"),
    cli("export-not-a-run", "export . --format parquet --out ds", "is not a run folder"),
    cli("export-format", "export . --format zip --out ds", "--format: invalid choice: 'zip'"),
    cli("grid-not-a-run", "grid nowhere", "is not a run folder"),
    cli("verify-sample", "verify . --sample 0", "`--sample`: must be an integer >= 1, got 0"),
    cli("gallery-not-a-run", "gallery nowhere", "is not a run folder"),
    # --- overrides
    cli("width-huge", "run width=100000", "`width`: must be at most 8192, got 100000"),
    cli("height-zero", "run height=0", "`height`: must be a positive multiple of 8, got 0"),
    cli("steps-zero", "run steps=0", "`steps`: must be an integer >= 1, got 0"),
    cli("seed-negative", "run seed=-1", "`seed`: must be an integer in [0, 2**63-1], got -1"),
    cli("guidance-negative", "run guidance_scale=-1", "`guidance_scale`: must be a number >= 0"),
    cli("sweep-malformed", "run seed=range(0,", "`seed`: malformed override"),
    cli("run-retries", "run run.retries=-1", "`run.retries`: must be an integer >= 0"),
    cli("backend-typo", "run backend.devise=cpu", "`backend.devise`: unknown config key"),
    cli("openai-no-url", "run backend=openai", "`backend.base_url`: is required"),
    cli("openai-scheme", "run backend=openai backend.base_url=ftp://x/v1", "`backend.base_url`: must start with http"),
    cli(
        "openai-key-env-unset",
        "run backend=openai backend.base_url=http://127.0.0.1:9/v1 backend.api_key_env=AV_UNSET_KEY_VARIABLE",
        "`backend.api_key_env`: environment variable 'AV_UNSET_KEY_VARIABLE' is not set",
    ),
    cli(
        "openai-url-origins",
        ["run", "backend=openai", "backend.base_url=http://127.0.0.1:9/v1", "backend.url_origins=[cdn.example.com]"],
        "`backend.url_origins`: must hold origins such as 'https://cdn.example.com'",
    ),
    cli("openai-timeout-type", "run backend=openai backend.timeout_s=soon", "`backend.timeout_s`", "soon"),
    # --- YAML files in a --config-dir
    cli(
        "yaml-malformed",
        "run --config-dir cfg model=mine",
        "cfg/model/mine.yaml",
        files={"cfg/model/mine.yaml": "name: mine\nsource: [unclosed\n"},
    ),
    cli(
        "yaml-model-schema",
        "run --config-dir cfg model=mine",
        "mine",
        "colour",
        files={"cfg/model/mine.yaml": "name: mine\nsource: builtin:tiny-sd\ncolour: red\n"},
    ),
    cli(
        "yaml-experiment-key",
        "run --config-dir cfg +experiment=mine",
        "`colour`: unknown parameter",
        files={"cfg/experiment/mine.yaml": "# @package _global_\ncolour: red\n"},
    ),
    cli("config-dir-missing", "run --config-dir nowhere", "`--config-dir`: 'nowhere' is not a folder"),
    # --- prompt files
    cli("prompts-missing", "run sweep.file=none.txt", "`sweep.file`: prompt file", "none.txt' does not exist"),
    prompts("prompts-empty", "p.txt", "# only\n\n", "`sweep.file`", "holds no rows"),
    prompts("prompts-type", "p.xlsx", "x", "unknown prompt file type '.xlsx'"),
    prompts("prompts-binary", "p.txt", b"\xff\xfe\x00bad", "`sweep.file`: cannot read"),
    prompts("jsonl-broken", "p.jsonl", '{"prompt": "a"}\n{', "p.jsonl:2: not valid JSON"),
    prompts("jsonl-not-object", "p.jsonl", "[1]", "p.jsonl:1: each line must be a JSON object"),
    prompts("csv-label-clash", "p.csv", "prompt,label.seed\na,1\n", "label column 'label.seed'"),
    prompts("csv-bad-value", "p.csv", "prompt,steps\na,many\n", "`steps`"),
    # --- input images and masks
    cli("image-missing", "run task=image_to_image image=none.png", "`image`: cannot read 'none.png'"),
    cli(
        "image-garbage", "run task=image_to_image image=bad.png", "`image`: does not decode", files={"bad.png": b"nope"}
    ),
    cli(
        "image-bomb",
        "run task=image_to_image image=bomb.png",
        "`image`",
        "decompression bomb",
        files={"bomb.png": BOMB},
    ),
    cli("image-tall", "run task=image_to_image image=tall.png", "`image`: declares 64x20000", files={"tall.png": TALL}),
    cli("image-empty-folder", "run task=image_to_image image=empty/", "`image`", files={"empty/.keep": ""}),
    cli(
        "mask-size",
        "run task=image_to_image image=in.png mask=m.png",
        "`mask`: size 16x16 differs from the image's 64x64",
        files={"in.png": IMAGE, "m.png": png_bytes(size=16)},
    ),
    cli(
        "mask-garbage",
        "run task=image_to_image image=in.png mask=m.png",
        "`mask`: does not decode",
        files={"in.png": IMAGE, "m.png": b"GIF89a broken"},
    ),
    # --- video parameters
    cli("video-on-image-model", "run task=text_to_video", "does not support task 'text_to_video'"),
    cli("video-frames-rule", "run model=tiny-wan-t2v task=text_to_video num_frames=10", "`num_frames`", "4k+1"),
    cli("video-frames-zero", "run model=tiny-wan-t2v task=text_to_video num_frames=0", "`num_frames`"),
    cli("video-fps-zero", "run model=tiny-wan-t2v task=text_to_video fps=0", "`fps`: must be an integer >= 1"),
    cli("video-format", "run model=tiny-wan-t2v task=text_to_video output_format=avi", "`output_format`", "avi"),
    cli(
        "video-size", "run model=tiny-wan-t2v task=text_to_video width=72", "`width`: must be a positive multiple of 16"
    ),
    # --- configs may not name classes to build
    cli("target-key", "run +_target_=os.system", "`_target_`: unknown parameter"),
    cli("backend-target", "run +backend._target_=subprocess.Popen", "`backend._target_`: unknown config key"),
    cli("scheduler-import", "run backend.scheduler=os.system", "`backend.scheduler`: unknown scheduler 'os.system'"),
    # --- requests to the built-in server
    request(
        "server-no-key", "/images/generations", 401, "missing or incorrect API key", key=None, json={"prompt": "a"}
    ),
    request("server-wrong-key", "/images/generations", 401, "invalid_api_key", key="sk-wrong", json={"prompt": "a"}),
    request("server-not-json", "/images/generations", 400, "`body`", "not valid JSON", data=b"{prompt"),
    request("server-not-object", "/images/generations", 400, "must be a JSON object", json=["a"]),
    request(
        "server-unknown-field",
        "/images/generations",
        400,
        "colour",
        "unknown parameter",
        json={"prompt": "a", "colour": 1},
    ),
    request(
        "server-huge-size", "/images/generations", 400, "at most 8192", json={"prompt": "a", "size": "100000x100000"}
    ),
    request("server-n", "/images/generations", 400, "`n`", "between 1 and 10", json={"prompt": "a", "n": 1000}),
    request("server-steps-type", "/images/generations", 400, "steps", "an integer", json={"prompt": "a", "steps": "9"}),
    request("server-model", "/images/generations", 404, "is not served here", json={"prompt": "a", "model": "sdxl"}),
    request("server-oversized", "/images/generations", 413, "larger than the server's limit", data=b"x" * (2 << 20)),
    request("server-edit-bomb", EDITS, 400, "image", "decompression bomb", **edit(BOMB)),
    request("server-edit-tall", EDITS, 400, "declares 64x20000", **edit(TALL)),
    request("server-edit-garbage", EDITS, 400, "does not decode", **edit(b"not an image")),
    request(
        "server-mask-bomb",
        EDITS,
        400,
        "`mask`: declares 64x20000",
        files={**edit(IMAGE)["files"], "mask": ("m.png", TALL)},
        data={"prompt": "a"},
    ),
    request("server-edit-no-form", EDITS, 400, "multipart/form-data", json={"prompt": "a"}),
    # --- answers from an HTTP server (the openai backend's side)
    answer("answer-500", Reply(500, json={"error": {"message": "GPU on fire"}}), "HTTP 500", "GPU on fire"),
    answer(
        "answer-429",
        Reply(429, json={"error": {"message": "slow down"}}, headers={"Retry-After": "0"}),
        "HTTP 429",
        "slow down",
    ),
    answer(
        "answer-timeout",
        Reply(json={"data": []}, delay_s=3),
        "no answer within 0.5 s",
        options=("backend.timeout_s=0.5",),
    ),
    answer("answer-truncated", Reply(json={"data": [{"b64_json": "A" * 400}]}, truncate=True), "cut short"),
    answer(
        "answer-content-type",
        Reply(body=b"<html>login</html>", content_type="text/html"),
        "text/html",
        "backend.base_url",
    ),
    answer("answer-not-image", Reply(json={"data": [{"b64_json": "bm90IGFuIGltYWdl"}]}), "not one of"),
    answer(
        "answer-enormous",
        Reply(body=b"x" * (3 << 20)),
        "larger than 1048576 bytes",
        options=("backend.max_response_mb=1",),
    ),
    answer(
        "answer-foreign-url",
        Reply(json={"data": [{"url": "http://127.0.0.1:9/elsewhere.png"}]}),
        "`backend.url_origins`",
        "http://127.0.0.1:9",
        options=("backend.response_format=url",),
    ),
    answer(
        "answer-bomb",
        Reply(json={"data": [{"b64_json": base64.b64encode(TALL).decode()}]}),
        "answer image",
        "declares 64x20000",
    ),
    answer("answer-no-data", Reply(json={"images": []}), "no `data` list"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, fault_upstream: FaultServer) -> Iterator[ServerProcess]:
    """``abstractvision serve`` in front of the fault server: every row is refused before any generation, by
    the server's own checks, so a backend without torch keeps the start-up short (the security suite serves
    tiny-sd itself)."""
    models_ok(fault_upstream)
    route = ("--backend", "openai", "--model", "remote", "--option", f"base_url={fault_upstream.base_url}")
    yield from serve(tmp_path_factory.mktemp("served"), *route, "--max-upload-mb", "1", api_key=KEY)


@pytest.fixture(scope="module")
def fault_upstream() -> Iterator[FaultServer]:
    with upstream() as server:
        yield server


def test_the_table_is_large_enough() -> None:
    assert len(ROWS) >= 40 and len({row.id for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_bad_input(row: Row, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, content in row.files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ABSTRACTVISION_API_KEY", raising=False)
    before = snapshot(tmp_path)
    outcome = row.act(Context(tmp_path, request))
    assert "Traceback" not in outcome.text, outcome.text
    assert outcome.code == row.code, outcome.text
    for word in row.words:
        assert word in outcome.text, f"{word!r} not in {outcome.text!r}"
    if row.outputs_only:
        written = [p for p in tmp_path.rglob("outputs/*")]
        assert written == [], written
    else:
        assert snapshot(tmp_path) == before
    assert os.getcwd() == str(tmp_path)

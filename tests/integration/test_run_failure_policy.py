"""The failure policy through the real CLI: what preflight can see fails before any job (exit 2, nothing
written); an error every job of a group would hit stops that group at once with one message and advice that
fits it, leaves its jobs pending, and lets the other groups finish."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from run_helpers import cli, jobs

USER_MODEL = """\
name: {name}
source: {source}
family: sd1
tasks: [text_to_image]
backends: [diffusers]
param_defaults: {{width: 64, height: 64, steps: 2}}
"""


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def user_model(cwd: Path, name: str, source: Path) -> None:
    (cwd / "conf" / "model").mkdir(parents=True, exist_ok=True)
    (cwd / "conf" / "model" / f"{name}.yaml").write_text(USER_MODEL.format(name=name, source=source))


def test_an_unreachable_server_fails_a_200_job_sweep_in_seconds(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    start = time.perf_counter()
    result = cli("run", "backend=openai", f"backend.base_url={url}", "prompt=fox", "seed=range(0,200)", cwd=tmp_path)
    elapsed = time.perf_counter() - start
    assert result.returncode == 2, result.stderr
    assert elapsed < 20, f"took {elapsed:.1f} s"
    assert "WARNING" not in result.stderr
    assert result.stderr.count("cannot reach the server") == 1
    assert "start the server or fix backend.base_url, then run the same command" in result.stderr
    assert "to retry" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_missing_model_prints_its_error_once_before_any_work(tmp_path: Path) -> None:
    user_model(tmp_path, "gone", tmp_path / "no-such-model")
    for dry_run in ("false", "true"):
        result = cli(
            "run", "model=gone,tiny-sd", "prompt=fox", "seed=range(0,8)", f"run.dry_run={dry_run}", cwd=tmp_path
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("does not exist") == 1
        assert "gone (diffusers): ModelNotFoundError: model folder" in result.stderr
        assert "put the model's files in place (or fix its source), then run the same command" in result.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["conf"]


def test_a_model_that_fails_to_load_stops_its_group_and_the_other_finishes(tmp_path: Path) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "model_index.json").write_text("{not json")
    user_model(tmp_path, "broken", broken)
    result = cli("run", "model=broken,tiny-sd", "prompt=fox", "seed=range(0,2)", "steps=2", "run.dir=r", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "error: broken (diffusers) stopped, every job of this group would fail the same way" in result.stderr
    assert result.stderr.count("broken-model") == 1
    assert "2 job(s) left pending; fix or replace the model files, then run the same command" in result.stderr
    assert "to retry" not in result.stderr
    assert "4 jobs: 2 done now" in result.stdout
    rows = jobs(tmp_path / "r").values()
    assert (
        sorted((row["model"], row["status"]) for row in rows) == [("broken", "pending")] * 2 + [("tiny-sd", "done")] * 2
    )
    assert [row["error_type"] for row in rows if row["status"] == "pending" and row["attempts"]] == ["ModelLoadError"]

"""The runner and the HTTP transport through the real CLI against a real misbehaving server: one attempt
budget per job across both layers, a wrong key stops the group once, a refused request fails only its job."""

from __future__ import annotations

import base64
import sqlite3
import subprocess
import sys
from pathlib import Path

from fault_server import FaultServer, Reply, png_bytes

GENERATIONS = "/v1/images/generations"


def run(tmp_path: Path, server: FaultServer, *overrides: str) -> subprocess.CompletedProcess[str]:
    args = [
        sys.executable, "-m", "abstractvision.cli", "run", "backend=openai", f"backend.base_url={server.base_url}",
        "backend.backoff_s=0", "run.retry_delay_s=0", "prompt=fox", f"run.dir={tmp_path / 'r'}", "run.progress=false",
        *overrides,
    ]  # fmt: skip
    return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=tmp_path)


def rows(tmp_path: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(tmp_path / "r" / "manifest.sqlite")
    conn.row_factory = sqlite3.Row
    return conn.execute("SELECT * FROM jobs ORDER BY seq").fetchall()


def posts(server: FaultServer) -> int:
    return sum(1 for r in server.received if r.method == "POST")


def test_transport_and_runner_share_one_attempt_budget(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.script("POST", GENERATIONS, Reply(503, json={"error": {"message": "GPU on fire"}}))
    result = run(tmp_path, fault_server, "seed=0", "run.retries=2", "backend.max_retries=3")
    assert result.returncode == 1
    assert posts(fault_server) == 3  # not (2 + 1) x (3 + 1) = 12
    [job] = rows(tmp_path)
    assert (job["status"], job["attempts"], job["error_type"]) == ("failed", 3, "BackendResponseError")
    assert "1 job(s) failed: run the same command again to retry" in result.stderr


def test_a_rejected_key_stops_the_group_with_one_message(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.script("POST", GENERATIONS, Reply(401, json={"error": {"message": "invalid api key"}}))
    result = run(tmp_path, fault_server, "seed=range(0,20)", "backend.api_key=sk-wrong-123")
    assert result.returncode == 1
    assert posts(fault_server) == 1
    assert result.stderr.count("invalid api key") == 1
    assert "20 job(s) left pending; fix backend.api_key (or backend.api_key_env), then run the same command" in (
        result.stderr
    )
    assert "sk-wrong-123" not in result.stdout + result.stderr
    assert {job["status"] for job in rows(tmp_path)} == {"pending"}


def test_a_refused_request_fails_its_job_and_the_others_go_on(fault_server: FaultServer, tmp_path: Path) -> None:
    image = {"data": [{"b64_json": base64.b64encode(png_bytes()).decode()}]}
    refused = Reply(400, json={"error": {"message": "prompt refused"}})
    fault_server.script("POST", GENERATIONS, refused, Reply(200, json=image))
    result = run(tmp_path, fault_server, "seed=range(0,3)")
    assert result.returncode == 1
    assert posts(fault_server) == 3
    assert sorted(job["status"] for job in rows(tmp_path)) == ["done", "done", "failed"]
    assert "1 job(s) failed: fix the refused request (see the server's message), then run the same command" in (
        result.stderr
    )
    assert "to retry" not in result.stderr


def test_a_server_that_goes_away_trips_the_circuit_breaker(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.script("GET", "/v1/models", Reply(json={"data": []}))
    fault_server.script("POST", GENERATIONS, Reply(json={"data": [{"b64_json": "x" * 4000}]}, truncate=True))
    result = run(tmp_path, fault_server, "seed=range(0,200)", "run.max_connection_failures=4")
    assert result.returncode == 1
    assert posts(fault_server) == 6  # two jobs of 3 attempts (run.retries=2): 6 >= 4 in a row, the group stops
    assert "stopped, 6 connection failures in a row (run.max_connection_failures)" in result.stderr
    assert result.stderr.count("cut short") == 1 and "WARNING" not in result.stderr
    assert "200 job(s) left pending; start the server or fix backend.base_url" in result.stderr
    assert {job["status"] for job in rows(tmp_path)} == {"pending"}


def test_preflight_tolerates_a_server_without_a_models_route(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.script("GET", "/v1/models", Reply(404, json={"error": {"message": "no such route"}}))
    fault_server.script(
        "POST", GENERATIONS, Reply(json={"data": [{"b64_json": base64.b64encode(png_bytes()).decode()}]})
    )
    result = run(tmp_path, fault_server, "seed=0")
    assert result.returncode == 0, result.stderr
    assert "note: tiny-sd (openai): GET" in result.stderr and "HTTP 404" in result.stderr
    assert "the server is reachable, its key and model are checked by the first job" in result.stderr


def test_preflight_refuses_a_wrong_key_before_any_job(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.script("GET", "/v1/models", Reply(401, json={"error": {"message": "invalid api key"}}))
    for how in (["run.dry_run=false"], ["run.dry_run=true", "run.dry_run_network=true"]):
        result = run(tmp_path, fault_server, "seed=range(0,5)", "backend.api_key=sk-wrong-123", *how)
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("invalid api key") == 1
        assert "fix backend.api_key (or backend.api_key_env), then run the same command" in result.stderr
        assert not (tmp_path / "r").exists() and "sk-wrong-123" not in result.stderr
    assert posts(fault_server) == 0


def test_backend_model_id_is_the_name_sent(fault_server: FaultServer, tmp_path: Path) -> None:
    image = {"data": [{"b64_json": base64.b64encode(png_bytes()).decode()}]}
    fault_server.script("POST", GENERATIONS, Reply(json=image))
    result = run(tmp_path, fault_server, "seed=0", "backend.model_id=hosted/flux-pro")
    assert result.returncode == 0, result.stderr
    [post] = [r for r in fault_server.received if r.method == "POST"]
    assert post.json()["model"] == "hosted/flux-pro"

"""``run.executor=ray`` through the real CLI on a real local Ray (127.0.0.1, this machine's 2 CPUs): the same
jobs, seeds and bytes as the local executor, a worker process killed mid-run, a job that kills its workers
quarantined, the driver killed or stopped and resumed, a cluster started with ``ray start --head`` and joined
with ``auto``, and bad settings refused before any work.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from run_helpers import assert_complete, cli, count_done, jobs, kill_and_resume, outputs, popen, wait_for_done

from abstractvision.pipeline.compose import load_run_config
from abstractvision.pipeline.runner import Runner
from abstractvision.pipeline.worker import JobResult, JobSpec, Worker

if TYPE_CHECKING:
    import psutil

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None or importlib.util.find_spec("psutil") is None,
    reason="needs the ray extra (pip install 'abstractvision[ray]') and psutil (to find Ray's worker processes)",
)

RAY = ("run.executor=ray", "run.workers=2")
SWEEP = ("run", "prompt=a red fox", "backend.device=cpu")


def wait_for(condition, process: subprocess.Popen[str], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.1)


def start(args: tuple[str, ...], cwd: Path, run_dir: Path, done: int) -> subprocess.Popen[str]:
    """The CLI running ``args``, once ``done`` jobs are done."""
    driver = popen(*args, cwd=cwd)
    wait_for_done(run_dir, driver, at_least=done)
    return driver


def ray_workers(driver: subprocess.Popen[str]) -> list[psutil.Process]:
    """The driver's Ray actor processes (their title is ``ray::_RayWorker...``)."""
    import psutil

    found = []
    for child in psutil.Process(driver.pid).children(recursive=True):
        try:
            if "_RayWorker" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            pass
    return found


def pngs(run_dir: Path) -> dict[str, str]:
    return {name: sha for name, sha in outputs(run_dir).items() if name.endswith(".png")}


@pytest.mark.slow
@pytest.mark.machine_wide
@needs_ray
def test_twenty_jobs_on_two_workers_match_the_local_executor(tmp_path: Path, tiny_sd_path: Path) -> None:
    args = (*SWEEP, "seed=range(0,20)")
    local = cli(*args, "run.dir=local", cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    distributed = cli(*args, "run.dir=ray", *RAY, cwd=tmp_path)
    assert distributed.returncode == 0, distributed.stderr
    assert "20 jobs: 20 done now, 0 already done, 0 failed" in distributed.stdout
    assert_complete(tmp_path / "ray", 20)
    seeds = {job_id: (row["seed"], row["attempts"]) for job_id, row in jobs(tmp_path / "ray").items()}
    assert seeds == {job_id: (row["seed"], row["attempts"]) for job_id, row in jobs(tmp_path / "local").items()}
    assert pngs(tmp_path / "ray") == pngs(tmp_path / "local")  # the same bytes (same machine, same threads)


@pytest.mark.slow
@pytest.mark.machine_wide
@needs_ray
def test_a_worker_killed_mid_run_is_replaced_and_every_job_runs_once(tmp_path: Path, tiny_sd_path: Path) -> None:
    run_dir = tmp_path / "r"
    driver = popen(*SWEEP, "seed=range(0,10)", "run.dir=r", *RAY, cwd=tmp_path)
    wait_for(lambda: count_done(run_dir) >= 2 and len(ray_workers(driver)) == 2, driver)
    victim = ray_workers(driver)[0]
    victim.kill()  # SIGKILL: the actor's process dies with a job running and one queued
    stdout, stderr = driver.communicate(timeout=300)
    assert driver.returncode == 0, stderr
    assert "10 jobs: 10 done now, 0 already done, 0 failed" in stdout
    assert_complete(run_dir, 10)
    attempts = sorted(row["attempts"] for row in jobs(run_dir).values())
    assert attempts == [1] * 9 + [2]  # the job it was running counted the death; the queued one did not
    assert not victim.is_running()


class CrashOnPrompt(Worker):
    """A real tiny-sd worker whose process dies (like a native crash) on the prompt ``crash``."""

    def __call__(self, job: JobSpec) -> JobResult:
        if job.identity["params"]["prompt"] == "crash":
            os._exit(1)
        return super().__call__(job)


@pytest.mark.slow
@pytest.mark.machine_wide
@needs_ray
def test_a_job_that_kills_its_worker_twice_is_quarantined(tmp_path: Path, tiny_sd_path: Path) -> None:
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the actors cannot import this test module
    overrides = ["prompt=a red fox,crash,a blue fox", "backend.device=cpu", f"run.dir={tmp_path / 'r'}", *RAY]
    try:
        summary = Runner(load_run_config([*overrides, "run.progress=false"]), worker_factory=CrashOnPrompt).run()
    finally:
        import ray

        ray.shutdown()  # the Ray this test started in the test process (others start theirs in the CLI)
    assert (summary.done, summary.failed) == (2, 1)
    (failure,) = summary.failures
    assert failure["error_type"] == "WorkerCrashedError" and failure["attempts"] == 2
    assert "a worker died 2 times while running this job; it is quarantined" in failure["error"]


@pytest.mark.slow
@pytest.mark.machine_wide
@needs_ray
def test_the_driver_killed_mid_run_resumes_with_nothing_lost_or_duplicated(tmp_path: Path, tiny_sd_path: Path) -> None:
    import psutil

    args, run_dir = (*SWEEP, "seed=range(0,8)", "run.dir=r", *RAY), tmp_path / "r"
    driver = start(args, tmp_path, run_dir, done=2)
    ray_processes = psutil.Process(driver.pid).children(recursive=True)
    kill_and_resume(args, tmp_path, run_dir, driver, total=8)
    _, alive = psutil.wait_procs(ray_processes, timeout=60)  # the killed driver's Ray goes away on its own
    for process in alive:  # Ray's dashboard and runtime-env agents notice their raylet is gone only later
        process.kill()
    assert not [p for p in alive if "Agent" not in p.name()], alive


@pytest.mark.slow
@pytest.mark.machine_wide
@needs_ray
def test_ctrl_c_cancels_the_queued_jobs_lets_the_running_ones_finish(tmp_path: Path, tiny_sd_path: Path) -> None:
    """Each of the 2 workers runs one job and has one queued: after Ctrl-C only the running ones finish."""
    args, run_dir = (*SWEEP, "seed=range(0,8)", "steps=8", "run.dir=r", *RAY), tmp_path / "r"
    driver = start(args, tmp_path, run_dir, done=1)
    done_at_signal = count_done(run_dir)
    driver.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    _, stderr = driver.communicate(timeout=120)
    assert driver.returncode == 130, stderr
    statuses = [row["status"] for row in jobs(run_dir).values()]
    assert "running" not in statuses and "pending" in statuses
    assert statuses.count("done") <= done_at_signal + 3  # the 2 running (+1 that finished as the signal came)
    assert time.monotonic() - stopped < 60
    assert cli(*args, cwd=tmp_path).returncode == 0
    assert_complete(run_dir, 8)
    assert {row["attempts"] for row in jobs(run_dir).values()} == {1}  # a cancelled job never counted an attempt


@pytest.mark.slow
@pytest.mark.machine_wide
@needs_ray
def test_a_cluster_started_with_ray_start_is_joined_with_address_auto(tmp_path: Path, tiny_sd_path: Path) -> None:
    ray_cli = Path(sys.executable).with_name("ray")
    head = subprocess.Popen(
        [str(ray_cli), "start", "--head", "--block", "--num-cpus=2", "--node-ip-address=127.0.0.1",
         f"--port={free_port()}", "--include-dashboard=false", "--disable-usage-stats"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert head.stdout is not None
        for line in head.stdout:
            if "Ray runtime started" in line:
                break
        else:
            pytest.fail(f"ray start --head exited with {head.wait()}")
        result = cli(*SWEEP, "seed=range(0,4)", "run.dir=r", "run.executor=ray", "run.ray_address=auto", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert_complete(tmp_path / "r", 4)
    finally:
        head.send_signal(signal.SIGTERM)  # --block: stops the processes it started (never `ray stop`: that stops all)
        head.wait(timeout=60)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@needs_ray
def test_an_unreachable_address_fails_within_seconds_naming_it(tmp_path: Path) -> None:
    start = time.monotonic()
    result = cli(*SWEEP, "run.executor=ray", f"run.ray_address=127.0.0.1:{free_port()}", cwd=tmp_path)
    assert time.monotonic() - start < 20
    assert result.returncode == 2, result.stdout
    assert "error: `run.ray_address`: cannot reach a Ray cluster at '127.0.0.1:" in result.stderr
    assert "ray start --head" in result.stderr
    assert list(tmp_path.iterdir()) == []


@needs_ray
def test_auto_pointing_at_a_stopped_cluster_fails_within_seconds_naming_it(tmp_path: Path) -> None:
    port = free_port()  # RAY_ADDRESS is what `auto` reads first, before the record of the last `ray start`
    command = [sys.executable, "-m", "abstractvision.cli", *SWEEP, "run.executor=ray", "run.ray_address=auto"]
    env = {**os.environ, "RAY_ADDRESS": f"127.0.0.1:{port}"}
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2, result.stdout
    assert f"error: `run.ray_address`: cannot reach a Ray cluster at 'auto' (127.0.0.1:{port}, " in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.machine_wide
@needs_ray
def test_more_gpus_per_worker_than_the_cluster_has_fails_before_any_model_loads(tmp_path: Path) -> None:
    result = cli(*SWEEP, "run.executor=ray", "run.gpus_per_worker=1", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    expected = "error: `run.gpus_per_worker`: each worker asks for 1 GPU(s), but no node of the local Ray on 127.0.0.1"
    assert expected in result.stderr
    assert "(the most on one node: 0)" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_without_ray_installed_the_error_names_the_extra(tmp_path: Path) -> None:
    code = "import sys; sys.modules['ray'] = None; from abstractvision.cli import main; sys.exit(main(sys.argv[1:]))"
    command = [sys.executable, "-c", code, *SWEEP, "run.executor=ray", "run.progress=false"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=os.environ)
    assert result.returncode == 2, result.stdout
    assert "error: `run.executor=ray` needs Ray, which is not installed: pip install 'abstractvision[ray]'" in (
        result.stderr
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("run.executor=dask", "error: `run.executor`: must be one of ['local', 'ray'], got 'dask'"),
        ("run.workers=0", "error: `run.workers`: must be an integer >= 1 or null, got 0"),
        ("run.gpus_per_worker=-1", "error: `run.gpus_per_worker`: must be a number >= 0, got -1.0"),
    ],
)
def test_bad_executor_settings_are_refused_naming_the_key(tmp_path: Path, override: str, message: str) -> None:
    result = cli(*SWEEP, override, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert message in result.stderr

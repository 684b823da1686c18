"""Benchmark of the Ray executor (not a test): 2 resident Ray workers against the local executor and against
Hydra's Ray launcher, on the same sweep, measured side by side in one run, plus Ray's own startup cost.

  * startup: ``ray.init`` of a local Ray on 127.0.0.1 and the first actor ready, on their own;
  * CPU-bound: a ``--jobs`` tiny-sd sweep, ``run.executor=ray run.workers=2`` vs the local executor
    (target on this 2-core machine: the Ray run no worse than 1.2x slower);
  * server-bound: the same sweep on the ``openai`` backend against a server taking ``--latency-ms`` per
    request, Ray with 2 workers vs the serial local executor (target: >= 1.7x faster);
  * Hydra's Ray launcher (``pip install hydra-ray-launcher``; skipped if it does not import) running
    ``bench/naive_hydra/app.py``: one Ray task per image, each loading tiny-sd again (target: >= 2x faster).

Each timing is the whole ``Runner.run()``: planning, the manifest, writing every output, and for Ray starting a
local Ray and the actors (each loads the model once). ``OMP_NUM_THREADS`` is 1 in every process, so that the
runs compare like for like.

    python bench/bench_ray.py [--jobs 100] [--latency-ms 200] [--skip-hydra]
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"  # before torch loads, here and in every Ray worker

from bench_http_concurrency import slow_server

from abstractvision.pipeline.compose import load_run_config
from abstractvision.pipeline.runner import Runner

RAY = ["run.executor=ray", "run.workers=2"]


def sweep_seconds(overrides: list[str], jobs: int, run_dir: Path) -> float:
    config = load_run_config(["prompt=a red fox", f"seed=range(0,{jobs})", f"run.dir={run_dir}", *overrides])
    start = time.perf_counter()
    summary = Runner(config, out=io.StringIO()).run()
    elapsed = time.perf_counter() - start
    assert summary.done == jobs and summary.failed == 0, summary
    return elapsed


def ray_startup_seconds() -> tuple[float, float]:
    """``ray.init`` on its own, then one (empty) actor ready."""
    import ray

    start = time.perf_counter()
    ray.init("local", num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False)
    started = time.perf_counter()
    ray.get(ray.remote(Nothing).options(num_cpus=1).remote().ready.remote())
    actor = time.perf_counter()
    ray.shutdown()
    return started - start, actor - started


class Nothing:
    def ready(self) -> bool:
        return True


def hydra_ray_seconds(jobs: int, out: Path) -> float | None:
    """``bench/naive_hydra/app.py`` (load the pipeline, make one image) on Hydra's Ray launcher, 2 CPUs."""
    try:
        import hydra_plugins.hydra_ray_launcher  # noqa: F401
    except ImportError:
        return None
    from abstractvision.builtin import ensure_builtin

    app, init = Path(__file__).with_name("naive_hydra") / "app.py", "hydra.launcher.ray.init"
    command = [sys.executable, str(app), "-m", f"model={ensure_builtin('tiny-sd')}", f"seed=range(0,{jobs})",
               "hydra/launcher=ray", f"hydra.sweep.dir={out}", f"{init}.address=local", f"+{init}.num_cpus=2",
               f"+{init}._node_ip_address=127.0.0.1", f"+{init}.include_dashboard=false"]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    assert len(list(out.rglob("*.png"))) == jobs
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--skip-hydra", action="store_true")
    args = parser.parse_args()
    jobs = args.jobs

    init_s, actor_s = ray_startup_seconds()
    print(f"Ray startup: ray.init {init_s:.2f} s, first actor ready {actor_s:.2f} s")
    server = slow_server(args.latency_ms / 1000)
    http = ["backend=openai", f"backend.base_url=http://127.0.0.1:{server.server_address[1]}/v1", "model=tiny-sd"]
    with tempfile.TemporaryDirectory() as tmp:
        sweep_seconds(["backend.device=cpu"], 2, Path(tmp) / "warmup")  # imports, first compose, tiny-sd built
        local = sweep_seconds(["backend.device=cpu"], jobs, Path(tmp) / "local")
        ray_cpu = sweep_seconds(["backend.device=cpu", *RAY], jobs, Path(tmp) / "ray")
        serial = sweep_seconds(http, jobs, Path(tmp) / "http-local")
        ray_http = sweep_seconds([*http, *RAY], jobs, Path(tmp) / "http-ray")
        server.shutdown()
        hydra = None if args.skip_hydra else hydra_ray_seconds(jobs, Path(tmp) / "hydra-ray")

    print(f"{jobs} tiny-sd jobs (CPU-bound, 2 cores):")
    print(f"  local executor      : {local:6.2f} s")
    print(f"  ray, 2 workers      : {ray_cpu:6.2f} s   ray/local = {ray_cpu / local:.2f}x (target <= 1.2x)")
    if hydra is None:
        print("  hydra ray launcher  : skipped (pip install hydra-ray-launcher)")
    else:
        print(f"  hydra ray launcher  : {hydra:6.2f} s   hydra/ray = {hydra / ray_cpu:.2f}x faster (target >= 2x)")
    print(f"{jobs} jobs against a server taking {args.latency_ms:.0f} ms per request:")
    print(f"  local executor      : {serial:6.2f} s")
    print(f"  ray, 2 workers      : {ray_http:6.2f} s   local/ray = {serial / ray_http:.2f}x faster (target >= 1.7x)")


if __name__ == "__main__":
    main()

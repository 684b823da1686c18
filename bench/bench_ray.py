"""The Ray executor with 2 resident workers against the local executor and Hydra's Ray launcher, on the same
sweep, every contender a whole process, interleaved; plus Ray's start-up on its own. ``python -m bench --only ray``.

  * CPU-bound: a tiny-sd sweep (100 jobs; 12 with ``--quick``), ``run.executor=ray run.workers=2`` vs the local
    executor (target on this 2-core machine: the Ray run no worse than 1.2x slower);
  * Hydra's Ray launcher running ``naive_hydra/app.py`` on the same seeds: one Ray task per image, each loading
    tiny-sd again (target: Ray executor >= 2x faster). It needs ``hydra-ray-launcher``; without it the row says
    "not available";
  * the same two comparisons on the 1 GB SD1.x-layout model (``ray-cpu-sd1-layout``: 20 jobs, 64x64, 2 steps;
    not run with ``--quick``), whose reload costs seconds where tiny-sd's costs a tenth of one;
  * server-bound: the same sweep on the ``openai`` backend against a local server taking 200 ms per request,
    Ray with 2 workers vs the local executor, both serial per worker (target: >= 1.7x faster);
  * start-up: a process that starts a local Ray as the executor does and has 2 (empty) actors ready, against
    one that only imports Ray.

The server-bound and start-up comparisons also time the executor joining a cluster that runs already (``ray
start --head`` on 127.0.0.1 with 2 CPUs, ``run.ray_address=HOST:PORT``): what a run costs once Ray's own
start-up is paid, as on a cluster.

Every process gets the harness's environment (``OMP_NUM_THREADS`` = ``--threads``, 1 by default), so each Ray
worker and the local executor compute on one thread: on 2 cores, 2 workers have twice the cores of the local
run, and the machine's other load decides how much of that they get.
"""

from __future__ import annotations

import importlib.util
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import models
from .bench_http_concurrency import slow_server
from .bench_multirun import sd1_model
from .bench_runner_overhead import runner_command
from .harness import Figure, Row, Settings, Target, Unavailable

NAIVE_APP = Path(__file__).with_name("naive_hydra") / "app.py"
RAY = ["run.executor=ray", "run.workers=2"]
LOCAL, ON_RAY, HYDRA = "local executor", "ray executor, 2 workers", "hydra ray launcher (naive)"
JOINED = "ray executor, 2 workers, joining a running cluster"
LATENCY_S = 0.2
STARTUP = """
import sys
import ray
from abstractvision.pipeline.executors.ray_cluster import connect

class Empty:
    def ready(self):
        return True

connect(None if len(sys.argv) == 1 else sys.argv[1])
ray.get([ray.remote(Empty).options(num_cpus=1).remote().ready.remote() for _ in range(2)])
"""


@dataclass(frozen=True)
class CpuSweep:
    """One model's sweep, alike for every contender."""

    bench: str
    model: str
    folder: Path
    runner_model: list[str]
    seeds: int
    steps: int

    def note(self, settings: Settings) -> str:
        note = f"{self.seeds} {self.model} jobs, 64x64, {self.steps} steps, whole processes"
        return note + (" (--quick; the targets are for 100 tiny-sd jobs)" if settings.quick else "")


def hydra_ray_command(sweep: CpuSweep, out: Path) -> list[str]:
    """The naive app on Hydra's Ray launcher: a local Ray of 2 CPUs, one task (1 CPU) per image."""
    init = "hydra.launcher.ray.init"
    return [sys.executable, str(NAIVE_APP), "-m", f"model={sweep.folder}", f"seed=range(0,{sweep.seeds})",
            f"steps={sweep.steps}", f"hydra.sweep.dir={out}", "hydra/launcher=ray", f"{init}.address=local",
            f"+{init}.num_cpus=2", f"+{init}._node_ip_address=127.0.0.1",
            f"+{init}.include_dashboard=false"]  # fmt: skip


def http_command(base_url: str, seeds: int, out: Path, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "abstractvision.cli", "run", "backend=openai", f"backend.base_url={base_url}",
            "model=tiny-sd", "prompt=a red fox", f"seed=range(0,{seeds})", f"run.dir={out}", "run.progress=false",
            *extra]  # fmt: skip


def cpu_bound(settings: Settings, sweep: CpuSweep) -> dict[str, list[float]]:
    def runner(out: Path) -> list[str]:
        return runner_command(sweep.runner_model, sweep.seeds, out, steps=sweep.steps)

    commands: dict[str, Callable[[Path], list[str]]] = {LOCAL: runner, ON_RAY: lambda out: [*runner(out), *RAY]}
    if importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is not None:
        commands[HYDRA] = lambda out: hydra_ray_command(sweep, out)
    return settings.processes(commands, settings.folder(sweep.bench), pngs=sweep.seeds)


@contextmanager
def running_cluster(settings: Settings) -> Iterator[str]:
    """``ray start --head`` on 127.0.0.1 with 2 CPUs, in the harness's environment; yields its address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ray_cli = Path(sys.executable).with_name("ray")
    head = subprocess.Popen(
        [str(ray_cli), "start", "--head", "--block", "--num-cpus=2", "--node-ip-address=127.0.0.1", f"--port={port}",
         "--include-dashboard=false", "--disable-usage-stats"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**settings.env, "RAY_AUTH_MODE": "disabled"},  # not the token shared by every Ray of this user
    )  # fmt: skip
    try:
        assert head.stdout is not None
        said = []
        for line in head.stdout:
            if "Ray runtime started" in line:
                break
            said.append(line)
        else:
            raise RuntimeError(f"ray start --head exited with {head.wait()}: {''.join(said)[-1500:]}")
        yield f"127.0.0.1:{port}"
    finally:
        head.send_signal(signal.SIGTERM)  # --block: stops what it started
        head.wait(timeout=60)


def server_bound(settings: Settings, seeds: int, cluster: str) -> dict[str, list[float]]:
    server = slow_server(LATENCY_S)
    base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        commands: dict[str, Callable[[Path], list[str]]] = {
            LOCAL: lambda out: http_command(base_url, seeds, out, []),
            ON_RAY: lambda out: http_command(base_url, seeds, out, RAY),
            JOINED: lambda out: http_command(base_url, seeds, out, [*RAY, f"run.ray_address={cluster}"]),
        }
        return settings.processes(commands, settings.folder("ray-http"), pngs=seeds)
    finally:
        server.shutdown()


def startup(settings: Settings, cluster: str) -> dict[str, list[float]]:
    commands: dict[str, Callable[[Path], list[str]]] = {
        "import ray": lambda out: [sys.executable, "-c", "import ray"],
        "start a local Ray, 2 actors ready": lambda out: [sys.executable, "-c", STARTUP],
        "join a running cluster, 2 actors ready": lambda out: [sys.executable, "-c", STARTUP, cluster],
    }
    return settings.processes(commands, settings.folder("ray-startup"))


def _figure(bench: str, seconds: dict[str, list[float]], subject: str, baseline: str, target: Target | None,
            note: str) -> Figure:  # fmt: skip
    return Figure(bench, subject, baseline, tuple(seconds[subject]), tuple(seconds[baseline]), target, note)


def _seeds(settings: Settings) -> int:
    return 12 if settings.quick else 100


def _without_ray(bench: str, subject: str, target: Target | None) -> list[Row] | None:
    if importlib.util.find_spec("ray") is not None:
        return None
    return [Unavailable(bench, subject, "not available: Ray not installed (the ray extra)", target)]


def ray_cpu(settings: Settings) -> list[Row]:
    """The Ray executor vs the local executor and vs Hydra's Ray launcher, on tiny-sd."""
    sweep = CpuSweep("ray-cpu", "tiny-sd", models.tiny_sd(), ["model=tiny-sd"], _seeds(settings), 4)
    return _cpu_rows(settings, sweep)


def ray_cpu_sd1(settings: Settings) -> list[Row]:
    """The same on the 1 GB SD1.x-layout model, whose reload for every image costs seconds (not with --quick:
    its 20 jobs take about 4 minutes)."""
    if settings.quick:
        return [Unavailable("ray-cpu-sd1-layout", HYDRA, "not run with --quick (about 4 minutes): run without it")]
    folder = models.sd1_pipeline()
    sweep = CpuSweep("ray-cpu-sd1-layout", "sd1-layout", folder, sd1_model(folder), 20, 2)
    return _cpu_rows(settings, sweep)


def _cpu_rows(settings: Settings, sweep: CpuSweep) -> list[Row]:
    missing = _without_ray(sweep.bench, ON_RAY, Target("<=", 1.2))
    if missing:
        return missing
    cpu, note = cpu_bound(settings, sweep), sweep.note(settings)
    rows: list[Row] = [_figure(sweep.bench, cpu, ON_RAY, LOCAL, Target("<=", 1.2), note)]
    if HYDRA in cpu:
        rows.append(_figure(sweep.bench, cpu, HYDRA, ON_RAY, Target(">=", 2.0), note))
    else:
        reason = "not available: hydra-ray-launcher not installed (pip install --no-deps hydra-ray-launcher)"
        rows.append(Unavailable(sweep.bench, HYDRA, reason, Target(">=", 2.0)))
    return rows


def ray_http(settings: Settings) -> list[Row]:
    """The local executor vs the Ray executor, started or joined, against a 200 ms server; and Ray's start-up."""
    missing = _without_ray("ray-http", ON_RAY, Target(">=", 1.7))
    if missing:
        return missing
    seeds = _seeds(settings)
    with running_cluster(settings) as cluster:
        http, start = server_bound(settings, seeds, cluster), startup(settings, cluster)
    served = f"{seeds} jobs on the openai backend, a local server taking {LATENCY_S * 1000:.0f} ms per request"
    rows: list[Row] = [
        _figure("ray-http", http, LOCAL, ON_RAY, Target(">=", 1.7), served),
        _figure("ray-http", http, LOCAL, JOINED, Target(">=", 1.7), served),
    ]
    note = "a local Ray started as the executor does, or a cluster started with `ray start --head` joined"
    for subject in ("start a local Ray, 2 actors ready", "join a running cluster, 2 actors ready"):
        rows.append(_figure("ray-startup", start, subject, "import ray", None, note))
    return rows

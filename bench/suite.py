"""Every benchmark of the harness, by name: each takes the harness settings and returns its rows.

The benches that also run on their own (``python bench/bench_*.py``) are wrapped here; their modules keep
their own command lines. Sizes shrink in ``--quick`` mode, and each row's note says what was run.
"""

from __future__ import annotations

from collections.abc import Callable

from .bench_batching import runner_batching
from .bench_first_image import first_image
from .bench_multirun import sd1, tiny_sd
from .bench_ray import ray_cpu, ray_cpu_sd1, ray_http
from .harness import Figure, Row, Settings, Target, Unavailable


def planning(settings: Settings) -> list[Row]:
    from .bench_planning import interleaved

    results = interleaved(settings.rounds, settings.env)
    seconds = {part: tuple(r["seconds"] for r in runs) for part, runs in results.items()}
    peak = max(r["peak_mib"] for runs in results.values() for r in runs)
    note = f"1,000,000 jobs (10,000 seeds x 5 guidance x 20 prompts), peak memory {peak:.0f} MiB"
    base = "plain hash+insert"
    return [
        Figure(
            "planning", "plan into manifest", base, seconds["manifest"], seconds["baseline"], Target("<=", 1.0), note
        ),
        Figure("planning", "dry run (every job id)", base, seconds["dry_run"], seconds["baseline"], None, note),
    ]


def resume(settings: Settings) -> list[Row]:
    from .bench_resume import JOBS, interleaved

    jobs = 10_000 if settings.quick else JOBS
    baseline, resumed = interleaved(jobs, settings.rounds, settings.env)
    note = f"{jobs:,} finished jobs" + (" (--quick; the target is for 100,000)" if jobs != JOBS else "")
    return [Figure("resume", "resume, nothing to do", "import + sha256 of the outputs", tuple(resumed),
                   tuple(baseline), Target("<", 5.0, "s"), note)]  # fmt: skip


def http_concurrency(settings: Settings) -> list[Row]:
    from .bench_http_concurrency import interleaved

    jobs, latency_s = (16 if settings.quick else 24), 0.2
    serial, parallel = interleaved(jobs, latency_s, 4, settings.rounds)
    note = f"{jobs} jobs against a local server taking {latency_s * 1000:.0f} ms per request"
    return [Figure("http-concurrency", "serial", "run.concurrency=4", tuple(serial), tuple(parallel),
                   Target(">=", 3.0), note)]  # fmt: skip


def sdcpp(settings: Settings) -> list[Row]:
    subject = "sdcpp backend (python mode)"
    try:
        import stable_diffusion_cpp  # noqa: F401
    except ImportError:
        reason = "not available: stable-diffusion-cpp-python not installed (the sdcpp extra)"
        return [Unavailable("sdcpp", subject, reason, Target("<=", 1.05))]
    from abstractvision.builtin import ensure_builtin

    from .bench_sdcpp import overhead_times, python_mode_backend

    images = 3 if settings.quick else 10
    backend = python_mode_backend(ensure_builtin("sd1-layout"), settings.threads)
    params = {"width": 64, "height": 64, "steps": 2, "guidance_scale": 7.0}
    direct, ours = overhead_times(backend, params, images)
    backend.unload()
    note = f"sd1-layout, {images} images of 64x64, 2 steps, in one process, per-image medians (sd-cli mode not run)"
    return [
        Figure("sdcpp", subject, "stable-diffusion-cpp-python", tuple(ours), tuple(direct), Target("<=", 1.05), note)
    ]


#: name -> bench, in the order the harness runs them.
BENCHES: dict[str, Callable[[Settings], list[Row]]] = {
    "first-image": first_image,
    "runner-batching": runner_batching,
    "multirun-tiny-sd": tiny_sd,
    "multirun-sd1-layout": sd1,
    "planning": planning,
    "resume": resume,
    "http-concurrency": http_concurrency,
    "sdcpp": sdcpp,
    "ray-http": ray_http,
    "ray-cpu": ray_cpu,
    "ray-cpu-sd1-layout": ray_cpu_sd1,
}


def select(only: list[str]) -> dict[str, Callable[[Settings], list[Row]]]:
    """The benches whose name contains any of ``only`` (all when empty); an unmatched filter raises ``ValueError``."""
    for word in only:
        if not any(word in name for name in BENCHES):
            raise ValueError(f"--only {word!r} matches no bench; benches are {list(BENCHES)}")
    return {name: bench for name, bench in BENCHES.items() if not only or any(word in name for word in only)}

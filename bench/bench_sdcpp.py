"""Benchmark of the stable-diffusion.cpp backend (not a test). Prints ratios measured side by side in one run.

1. Overhead: per-image time of the backend in Python mode vs calling stable-diffusion-cpp-python directly
   with the same model, size, steps and seeds (target: <= 1.05x). Calls alternate, and medians are compared,
   so that load from other processes hits both sides alike.
2. CLI mode vs Python mode over N images: sd-cli loads the model on every call, Python mode once.

    python bench/bench_sdcpp.py [--images 10] [--steps 2] [--size 64] [--model PATH] [--sd-cli PATH]

Without --model it builds (once, cached) the random SD1.x-layout test model; pass a real GGUF file for
realistic numbers.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from abstractvision import VisionManager
from abstractvision.backends.stable_diffusion_cpp.backend import (
    StableDiffusionCppBackendConfig,
    StableDiffusionCppVisionBackend,
)
from abstractvision.backends.stable_diffusion_cpp.cli_runner import find_sd_cli

PROMPT = "a red fox in the snow"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--guidance", type=float, default=7.0)
    parser.add_argument("--threads", type=int, default=0, help="0 = half the CPUs (the backend's default)")
    parser.add_argument("--model", type=Path, default=None, help="default: the SD1.x-layout test model")
    parser.add_argument("--sd-cli", default=None, help="default: $ABSTRACTVISION_SD_CLI, PATH, build-cli cache")
    args = parser.parse_args()
    if args.model is None:
        from abstractvision.builtin.sd1_layout import ensure_sd1_layout_model

        args.model = ensure_sd1_layout_model()
    params = {"width": args.size, "height": args.size, "steps": args.steps, "guidance_scale": args.guidance}
    print(f"model {args.model}, {args.images} images of {args.size}x{args.size}, {args.steps} steps")

    python_backend = python_mode_backend(args.model, args.threads)
    overhead(args, python_backend, params)
    sd_cli = find_sd_cli(args.sd_cli)
    if sd_cli is None:
        print("CLI vs Python: skipped, no sd-cli (build one with `abstractvision sdcpp build-cli`)")
        return
    config = StableDiffusionCppBackendConfig(model=str(args.model), threads=args.threads, mode="cli",
                                             sd_cli_path=str(sd_cli))  # fmt: skip
    cli_backend = StableDiffusionCppVisionBackend(config)
    cli_seconds = run_images(cli_backend, params, args.images)
    python_backend.unload()  # so that Python mode's total includes its one load
    python_seconds = run_images(python_backend, params, args.images)
    print(f"\nCLI vs Python mode over {args.images} images, loads included (sd-cli loads on every call):")
    print(f"  python mode: {python_seconds:8.2f} s total, {python_seconds / args.images:6.2f} s/image")
    print(f"  cli mode:    {cli_seconds:8.2f} s total, {cli_seconds / args.images:6.2f} s/image")
    print(f"  cli / python: {cli_seconds / python_seconds:.2f}x")


def python_mode_backend(model: Path, threads: int) -> StableDiffusionCppVisionBackend:
    """The backend in Python mode: the default mode, "auto", would pick sd-cli wherever one is found."""
    config = StableDiffusionCppBackendConfig(model=str(model), threads=threads, mode="python")
    return StableDiffusionCppVisionBackend(config)


def overhead(args: argparse.Namespace, backend: StableDiffusionCppVisionBackend, params: dict) -> None:
    direct_times, backend_times = overhead_times(backend, params, args.images)
    d, b = statistics.median(direct_times), statistics.median(backend_times)
    print(f"\nPython-mode overhead over {args.images} images ({backend.config.resolved_threads()} threads, medians):")
    print(f"  stable-diffusion-cpp-python directly: {d:6.3f} s/image")
    print(f"  sdcpp backend (python mode):          {b:6.3f} s/image  (incl. PNG + metadata)")
    print(f"  backend / direct: {b / d:.3f}x (target <= 1.05x)")


def overhead_times(
    backend: StableDiffusionCppVisionBackend, params: dict, images: int
) -> tuple[list[float], list[float]]:
    """Per-image seconds of stable-diffusion-cpp-python called directly and of the backend, alternating."""
    import stable_diffusion_cpp

    threads = backend.config.resolved_threads()
    model = backend.config.model
    direct = stable_diffusion_cpp.StableDiffusion(model_path=str(model), n_threads=threads, verbose=False)
    manager = VisionManager(backend)
    backend.preload()

    def call_direct(seed: int) -> None:
        direct.generate_image(
            prompt=PROMPT,
            width=params["width"],
            height=params["height"],
            sample_steps=params["steps"],
            cfg_scale=params["guidance_scale"],
            seed=seed,
        )

    def call_backend(seed: int) -> None:
        manager.generate_image(PROMPT, seed=seed, **params)

    call_direct(0)  # warm-up: first-call allocations on both sides
    call_backend(0)
    direct_times, backend_times = [], []
    for seed in range(1, images + 1):
        direct_times.append(timed(call_direct, seed))
        backend_times.append(timed(call_backend, seed))
    direct.close()
    return direct_times, backend_times


def run_images(backend: StableDiffusionCppVisionBackend, params: dict, count: int) -> float:
    manager = VisionManager(backend)
    start = time.perf_counter()
    for seed in range(count):
        manager.generate_image(PROMPT, seed=seed, **params)
    return time.perf_counter() - start


def timed(call: object, seed: int) -> float:
    start = time.perf_counter()
    call(seed)  # type: ignore[operator]
    return time.perf_counter() - start


if __name__ == "__main__":
    main()

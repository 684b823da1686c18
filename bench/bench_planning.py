"""Planning a 1,000,000-job sweep (10,000 seeds x 5 guidance scales x 20 prompts).

Measures, each in a fresh subprocess (so peak memory is its own):
  * baseline: plain hashing + SQLite inserts of the same jobs (json.dumps + sha256 + executemany),
  * dry run: ``abstractvision run ... run.dry_run=true`` planning (compose, validate, every job id),
  * manifest: planning every job into ``manifest.sqlite`` the way the runner does before executing.
Each part runs ROUNDS times, interleaved, and medians are compared. Targets: dry run < 15 s, manifest < 30 s
and <= 1.0x the baseline, peak memory < 1 GiB. Not a test: ``python bench/bench_planning.py [ROUNDS]``.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

SEEDS, GUIDANCE, PROMPTS = 10_000, [3.0, 4.5, 6.0, 7.5, 9.0], [f"a red fox number {i} in the snow" for i in range(20)]
OVERRIDES = [
    f"prompt={','.join(repr(p) for p in PROMPTS)}",
    f"seed=range(0,{SEEDS})",
    f"guidance_scale={','.join(map(str, GUIDANCE))}",
    "run.progress=false",
]


def baseline(folder: Path) -> int:
    import hashlib
    import sqlite3

    conn = sqlite3.connect(folder / "plain.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE jobs (job_id TEXT PRIMARY KEY, seed INTEGER, params TEXT)")
    batch, count = [], 0
    for prompt in PROMPTS:
        for guidance in GUIDANCE:
            for seed in range(SEEDS):
                params = {"backend": "diffusers", "model": "tiny-sd", "prompt": prompt, "guidance_scale": guidance,
                          "seed": seed, "width": 64, "height": 64, "steps": 4, "task": "text_to_image"}  # fmt: skip
                text = json.dumps(params, sort_keys=True, separators=(",", ":"))
                batch.append((hashlib.sha256(text.encode()).hexdigest()[:20], seed, text))
                if len(batch) == 20_000:
                    conn.execute("BEGIN")
                    conn.executemany("INSERT INTO jobs VALUES (?, ?, ?)", batch)
                    conn.execute("COMMIT")
                    count, batch = count + len(batch), []
    return count


def dry_run(folder: Path) -> int:
    import io

    from abstractvision.pipeline.compose import load_run_config
    from abstractvision.pipeline.runner import Runner

    out = io.StringIO()
    Runner(load_run_config([*OVERRIDES, "run.dry_run=true", f"run.dir={folder / 'run'}"]), out=out).run()
    return int(out.getvalue().split()[2])


def manifest(folder: Path) -> int:
    from abstractvision.pipeline.compose import load_run_config
    from abstractvision.pipeline.manifest import Manifest
    from abstractvision.pipeline.plan import Plan

    config = load_run_config([*OVERRIDES, f"run.dir={folder / 'run'}"])
    plan = Plan(config)
    (folder / "run").mkdir()
    store = Manifest(folder / "run" / "manifest.sqlite")
    plan_id = store.start_plan({"combinations": config.identity()})
    count = store.add_jobs((job.row(seq) for seq, job in enumerate(plan.jobs())), plan_id)
    store.close()
    return count


def measure(part: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        count = {"baseline": baseline, "dry_run": dry_run, "manifest": manifest}[part](Path(folder))
        seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"jobs": count, "seconds": seconds, "peak_mib": peak_mib}


PARTS = ("baseline", "dry_run", "manifest")


def interleaved(rounds: int, env: Mapping[str, str] | None = None) -> dict[str, list[dict[str, float]]]:
    """Each part measured in a fresh subprocess, ``rounds`` times, interleaved (baseline, dry run, manifest, ...)."""
    results: dict[str, list[dict[str, float]]] = {part: [] for part in PARTS}
    for _ in range(rounds):
        for part in PARTS:
            command = [sys.executable, __file__, part]
            output = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
            results[part].append(json.loads(output.splitlines()[-1]))
    return results


def main(rounds: int) -> None:
    results = interleaved(rounds)
    medians = {part: statistics.median(r["seconds"] for r in runs) for part, runs in results.items()}
    for part, runs in results.items():
        peak = max(r["peak_mib"] for r in runs)
        print(f"{part:9s} {runs[0]['jobs']:>9,} jobs  median {medians[part]:6.1f} s  peak {peak:6.0f} MiB")
    base, dry, planned = medians["baseline"], medians["dry_run"], medians["manifest"]
    print(f"dry run:  {dry:.1f} s (target < 15 s), {dry / base:.2f}x the plain hash+insert baseline")
    print(f"manifest: {planned:.1f} s (target < 30 s), {planned / base:.2f}x the baseline (target <= 1.0x)")
    print("peak memory target: < 1024 MiB")


if __name__ == "__main__":
    if sys.argv[1:2] and sys.argv[1] in PARTS:
        print(json.dumps(measure(sys.argv[1])))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)

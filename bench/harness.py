"""The harness's pure helpers: figures (ratios of medians), targets, interleaved rounds, timed processes."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    """A goal on a figure's ratio (``unit="x"``) or on the median seconds of its subject (``unit="s"``)."""

    op: str  # "<=", ">=" or "<"
    value: float
    unit: str = "x"

    def met(self, measured: float) -> bool:
        return {"<=": measured <= self.value, ">=": measured >= self.value, "<": measured < self.value}[self.op]

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}{' s' if self.unit == 's' else 'x'}"


@dataclass(frozen=True)
class Figure:
    """``subject`` against ``baseline``, both timed in the same rounds: the ratio of their median seconds."""

    bench: str
    subject: str
    baseline: str
    subject_s: tuple[float, ...]
    baseline_s: tuple[float, ...]
    target: Target | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        return ratio(self.subject_s, self.baseline_s)

    @property
    def spread(self) -> tuple[float, float]:
        """The lowest and highest ratio of one round (subject and baseline of the same round)."""
        per_round = [s / b for s, b in zip(self.subject_s, self.baseline_s, strict=True)]
        return min(per_round), max(per_round)

    @property
    def measured(self) -> float:
        """What the target is about: the ratio, or the subject's median seconds."""
        if self.target is not None and self.target.unit == "s":
            return statistics.median(self.subject_s)
        return self.ratio

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "-"
        return "met" if self.target.met(self.measured) else "MISSED"


@dataclass(frozen=True)
class Unavailable:
    """A slot of the harness that could not be measured here, and why."""

    bench: str
    subject: str
    reason: str
    target: Target | None = None


Row = Figure | Unavailable


def ratio(subject_s: Sequence[float], baseline_s: Sequence[float]) -> float:
    return statistics.median(subject_s) / statistics.median(baseline_s)


def interleave(contenders: Mapping[str, Callable[[int], float]], rounds: int) -> dict[str, list[float]]:
    """Seconds of every contender, called in turn (A B A B ...) for ``rounds`` rounds; each gets the round number."""
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    for round_number in range(rounds):
        for name, contender in contenders.items():
            seconds[name].append(contender(round_number))
    return seconds


def bench_env(threads: int) -> dict[str, str]:
    """The environment of every timed process: same thread count, offline, this checkout's package first."""
    env = dict(os.environ)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[variable] = str(threads)
    env["HF_HUB_OFFLINE"] = "1"
    env["TOKENIZERS_PARALLELISM"] = "false"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def timed_process(command: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> float:
    """Wall-clock seconds of ``command`` as a whole process; a failure raises with the end of its output."""
    start = time.perf_counter()
    result = subprocess.run(list(command), cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-2000:]
        raise RuntimeError(f"{' '.join(command[:4])} ... exited {result.returncode}:\n{tail}")
    return seconds


@dataclass(frozen=True)
class Settings:
    """How the harness runs: ``quick`` sizes, rounds per comparison, threads per process, a scratch folder."""

    quick: bool
    rounds: int
    threads: int
    workdir: Path

    @property
    def env(self) -> dict[str, str]:
        return bench_env(self.threads)

    def folder(self, name: str) -> Path:
        """A fresh scratch folder for one bench."""
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=False)
        return path

    def processes(
        self, commands: Mapping[str, Callable[[Path], list[str]]], cwd: Path, pngs: int | None = None
    ) -> dict[str, list[float]]:
        """Time each command (built from an output folder of its own per round) as a whole process, interleaved.

        With ``pngs``, each run must have left exactly that many PNG files in its folder: a contender that
        quietly made nothing must not look fast.
        """

        def contender(name: str, make: Callable[[Path], list[str]]) -> Callable[[int], float]:
            slug = "".join(c if c.isalnum() else "-" for c in name)

            def run(round_number: int) -> float:
                out = cwd / f"{slug}-{round_number}"
                seconds = timed_process(make(out), cwd, self.env)
                made = len(list(out.rglob("*.png")))
                if pngs is not None and made != pngs:
                    raise RuntimeError(f"{name} left {made} PNG files in {out}, expected {pngs}")
                return seconds

            return run

        return interleave({name: contender(name, make) for name, make in commands.items()}, self.rounds)

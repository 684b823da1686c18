"""The typed run configuration: what ``compose`` turns Hydra's DictConfig into, once, at the edge.

Nothing below this module sees a DictConfig. ``RunConfig.config_hash()`` names the default run folder,
so running the same command again finds (and resumes) the same run.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import InvalidParameterError
from ..registry import ModelSpec
from ..schema import schema_of, validate
from .jobs import canonical_json

_SECRET = re.compile(r"key|token|secret|password", re.IGNORECASE)
VERIFY_MODES = ("sha256", "exists")
REDACTED = "<redacted>"
EXECUTORS = ("local", "ray")


def redact(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` without secrets (API keys, tokens): they never reach the manifest, hashes or logs."""
    return {k: (REDACTED if _SECRET.search(k) and v else v) for k, v in options.items()}


def redact_overrides(overrides: list[str]) -> list[str]:
    """Command-line overrides with the values of secret-looking keys replaced (``backend.api_key=<redacted>``)."""
    redacted = []
    for override in overrides:
        key, sep, _ = override.partition("=")
        redacted.append(f"{key}=<redacted>" if sep and _SECRET.search(key) else override)
    return redacted


@dataclass(frozen=True)
class RunSettings:
    """The ``run`` group: how jobs are executed (never what they are, except ``base_seed``)."""

    dir: str | None = None
    root: str = "runs"
    base_seed: int = 0
    retries: int = 2
    retry_delay_s: float = 1.0
    max_connection_failures: int = 3
    concurrency: int = 1
    batch_size: int = 1
    """Jobs run as one engine call where the backend can batch them (alike but for their seeds); out of job ids."""
    dry_run: bool = False
    dry_run_network: bool = False
    sample: int = 5
    progress: bool = True
    verify: str = "sha256"
    max_interrupts: int = 2
    retry_failed: bool = False
    executor: str = "local"
    ray_address: str | None = None
    workers: int | None = None
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RunSettings:
        """The settings of a composed ``run`` node, checked against ``run_schema()`` and the value rules."""
        settings = cls(**validate(run_schema(), data, "run"))
        for name, minimum in _MINIMUMS.items():
            value = getattr(settings, name)
            if value < minimum:
                raise InvalidParameterError(f"run.{name}", f"must be an integer >= {minimum}, got {value!r}")
        if settings.verify not in VERIFY_MODES:
            raise InvalidParameterError("run.verify", f"must be one of {list(VERIFY_MODES)}, got {settings.verify!r}")
        if settings.executor not in EXECUTORS:
            raise InvalidParameterError("run.executor", f"must be one of {list(EXECUTORS)}, got {settings.executor!r}")
        if settings.batch_size > 1 and settings.executor == "ray":
            raise InvalidParameterError(
                "run.batch_size", "batches run with the local executor only; set run.batch_size=1 with run.executor=ray"
            )
        if settings.workers is not None and settings.workers < 1:
            raise InvalidParameterError("run.workers", f"must be an integer >= 1 or null, got {settings.workers!r}")
        for name in ("cpus_per_worker", "gpus_per_worker"):
            if getattr(settings, name) < 0:
                raise InvalidParameterError(f"run.{name}", f"must be a number >= 0, got {getattr(settings, name)!r}")
        return settings


_MINIMUMS = {
    "base_seed": 0,
    "retries": 0,
    "concurrency": 1,
    "batch_size": 1,
    "sample": 0,
    "max_connection_failures": 1,
    "max_interrupts": 1,
}


@cache
def run_schema() -> type:
    """The ``run/default`` option: ``RunSettings``' fields and defaults (the only place they are written)."""
    return schema_of(RunSettings, name="run_settings")


@dataclass(frozen=True)
class SweepSpec:
    """The ``sweep`` group: raw axis values (lists or override-grammar strings), expanded by the planner."""

    grid: Mapping[str, Any] = field(default_factory=dict)
    zip: Mapping[str, Any] = field(default_factory=dict)
    file: str | None = None
    sample: int | None = None
    """Draw this many combinations of the sweep (reproducibly; a larger ``sample`` keeps those drawn)."""
    sample_seed: int = 0
    """The seed of the draw (not of the images)."""

    @classmethod
    def from_mapping(cls, grid: Mapping[str, Any], paired: Mapping[str, Any], node: Mapping[str, Any]) -> SweepSpec:
        """The spec of a composed ``sweep`` node (``sample`` and ``sample_seed`` checked: integers)."""
        sample, sample_seed = node.get("sample"), node.get("sample_seed", 0)
        for name, value, minimum in (("sample", sample, 1), ("sample_seed", sample_seed, 0)):
            if value is not None and (not str(value).isdigit() or int(value) < minimum):
                raise InvalidParameterError(f"sweep.{name}", f"must be an integer >= {minimum}, got {value!r}")
        return cls(grid, paired, node.get("file"), None if sample is None else int(sample), int(sample_seed or 0))


@dataclass(frozen=True)
class Combination:
    """One composed config: one option per config group, its parameters and its sweep."""

    choices: Mapping[str, str]
    backend: str
    backend_options: Mapping[str, Any]
    model: ModelSpec
    task: str
    params: Mapping[str, Any]
    sweep: SweepSpec
    config: Mapping[str, Any]
    """The whole composed config as plain data (printed by ``--cfg job``; secrets included, never stored)."""


@dataclass(frozen=True)
class RunConfig:
    combinations: tuple[Combination, ...]
    run: RunSettings
    config_dirs: tuple[Path, ...] = ()

    def identity(self) -> list[dict[str, Any]]:
        """What defines the run's jobs: every combination's config, less execution settings and secrets.

        ``sweep.sample`` stays out, so that a larger sample of the same grid finds the same run folder and
        runs only the combinations it adds."""
        identity = []
        for combination in self.combinations:
            config = dict(combination.config)
            config["backend"] = redact(config.get("backend", {}))
            config["sweep"] = {k: v for k, v in (config.get("sweep") or {}).items() if k != "sample"}
            config["run"] = {"base_seed": self.run.base_seed}
            identity.append(config)
        return identity

    def config_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.identity()).encode()).hexdigest()[:10]

    def run_dir(self) -> Path:
        """``run.dir``, or ``<run.root>/<models>-<config hash>``."""
        if self.run.dir:
            return Path(self.run.dir)
        models = list(dict.fromkeys(c.model.name for c in self.combinations))
        label = "+".join(models) if len(models) <= 3 else f"{models[0]}+{len(models) - 1}-models"
        return Path(self.run.root) / f"{label}-{self.config_hash()}"

"""Jobs: one fully resolved unit of work, its id and its seed.

A job's identity is the canonical JSON of ``{"backend", "model", "model_source", "params", "seed",
"task"}``: keys sorted, no spaces, UTF-8, parameters resolved (model defaults filled in, ``None``
left out) and input files named by content (``"sha256:<hex>"``), never by path or output location.
The job id is the first 20 hex digits of that text's SHA-256, so the same job has the same id on any
machine and in any sweep order.

A seed left unset is derived from the run's ``base_seed`` and the job's identity without its seed, so
adding or removing other sweep values never changes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ID_LENGTH = 20
SEED_MODULUS = 2**32


def canonical_json(value: Any) -> str:
    """The one serialisation job identities are hashed from (a stable interface: see docs/manifest.md)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def job_id_of(identity_json: str) -> str:
    return hashlib.sha256(identity_json.encode("utf-8")).hexdigest()[:ID_LENGTH]


def derive_seed(base_seed: int, content_json: str) -> int:
    """A seed in [0, 2**32) from the run's base seed and the job's identity without its seed."""
    digest = hashlib.sha256(f"{base_seed}\n{content_json}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % SEED_MODULUS


@dataclass(frozen=True)
class Job:
    """A resolved job. ``inputs`` maps file parameters to the paths they were read from (not identity)."""

    job_id: str
    backend: str
    model: str
    model_source: str
    task: str
    params: Mapping[str, Any]
    seed: int
    inputs: Mapping[str, str] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "model": self.model,
            "model_source": self.model_source,
            "params": dict(self.params),
            "seed": self.seed,
            "task": self.task,
        }

    @classmethod
    def from_identity(cls, identity: Mapping[str, Any], inputs: Mapping[str, str] | None = None) -> Job:
        return cls(
            job_id=job_id_of(canonical_json(identity)),
            backend=identity["backend"],
            model=identity["model"],
            model_source=identity["model_source"],
            task=identity["task"],
            params=identity["params"],
            seed=identity["seed"],
            inputs=dict(inputs or {}),
        )


def make_job(
    backend: str,
    model: str,
    model_source: str,
    task: str,
    params: Mapping[str, Any],
    *,
    seed: int | None,
    base_seed: int,
    inputs: Mapping[str, str] | None = None,
) -> Job:
    """A job from resolved ``params`` (``None`` values dropped); ``seed=None`` derives one."""
    identity: dict[str, Any] = {
        "backend": backend,
        "model": model,
        "model_source": model_source,
        "params": {k: v for k, v in params.items() if v is not None},
        "task": task,
    }
    if seed is None:
        seed = derive_seed(base_seed, canonical_json(identity))
    identity["seed"] = seed
    return Job.from_identity(identity, inputs)


class JobEncoder:
    """``make_job``'s canonical JSON for many jobs of one backend, model and task, from pre-encoded pieces.

    Planning a million jobs cannot afford a full ``json.dumps`` per job: each distinct parameter value
    is encoded once (``piece``) and a job's text is a join of its pieces. The result is byte-identical
    to ``canonical_json(job.identity())`` (a unit test holds it to that).
    """

    def __init__(self, backend: str, model: str, model_source: str, task: str) -> None:
        head = {"backend": backend, "model": model, "model_source": model_source}
        self._head = canonical_json(head)[:-1] + ',"params":{'
        self._tail = ',"task":' + canonical_json(task) + "}"

    @staticmethod
    def piece(key: str, value: Any) -> tuple[str, str]:
        """The sortable encoded ``"key":value`` member of the params object."""
        return key, f"{canonical_json(key)}:{canonical_json(value)}"

    def encode(self, pieces: list[tuple[str, str]], seed: int | None, base_seed: int) -> tuple[str, int, str]:
        """``(job_id, seed, identity_json)`` for a job made of ``pieces`` (one per set parameter)."""
        pieces.sort()
        body = self._head + ",".join(piece for _, piece in pieces) + "}"
        if seed is None:
            seed = derive_seed(base_seed, body + self._tail)
        text = f'{body},"seed":{seed}{self._tail}'
        return job_id_of(text), seed, text

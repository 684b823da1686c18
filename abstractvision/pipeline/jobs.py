"""Jobs: one fully resolved unit of work, its id and its seed.

A job's identity is the canonical JSON of ``{"backend", "model", "model_source", "options", "params",
"seed", "task"}``: keys sorted, no spaces, UTF-8. ``options`` are the backend options that decide the
output, as configured (see ``backends.options``), with files named by content; ``params`` are resolved
(model defaults filled in, ``None`` left out) with input files named by content (``"sha256:<hex>"``),
never by path or output location. The job id is the first 20 hex digits of that text's SHA-256, so the
same job has the same id on any machine and in any sweep order. ``IDENTITY_VERSION`` numbers this
layout; the manifest records it, and a run made under another version is refused, not silently redone.

A seed left unset is derived from the run's ``base_seed`` and the job's identity without its seed, so
adding or removing other sweep values never changes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

IDENTITY_VERSION = 2
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


def job_identity(
    backend: str, model: str, model_source: str, options: Mapping[str, Any], task: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    """A job's identity without its seed (``None`` parameters left out); ``JobEncoder`` adds the seed."""
    return {
        "backend": backend,
        "model": model,
        "model_source": model_source,
        "options": dict(options),
        "params": {k: v for k, v in params.items() if v is not None},
        "task": task,
    }


class JobEncoder:
    """The canonical JSON of many jobs of one group and task, from pre-encoded pieces.

    Planning a million jobs cannot afford a full ``json.dumps`` per job: each distinct parameter value
    is encoded once (``piece``) and a job's text is a join of its pieces. The result is byte-identical
    to ``canonical_json`` of ``job_identity(...)`` plus the seed (a unit test holds it to that).
    """

    def __init__(self, backend: str, model: str, model_source: str, options: Mapping[str, Any], task: str) -> None:
        head = {"backend": backend, "model": model, "model_source": model_source, "options": dict(options)}
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

"""Batching (``run.batch_size``): consecutive jobs that one engine call can make, grouped in the order given.

Jobs come from the manifest in plan order, so the jobs of a seed sweep arrive side by side. A batch grows while
the next job is alike but for its seed and the backend accepts the seeds together (``Worker.batchable``); any
other job starts the next batch. Batches keep the jobs' order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

Job = TypeVar("Job")


def batches(jobs: Iterable[Job], size: int, batchable: Callable[[Sequence[Job]], bool]) -> Iterator[list[Job]]:
    """``jobs`` in order, as lists of at most ``size`` consecutive jobs that ``batchable`` accepts together."""
    batch: list[Job] = []
    for job in jobs:
        if batch and not batchable([*batch, job]):
            yield batch
            batch = []
        batch.append(job)
        if len(batch) >= size:  # at once: a full batch never waits for (and marks running) the next job
            yield batch
            batch = []
    if batch:
        yield batch

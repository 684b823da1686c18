"""One attempt budget per job, shared by every layer that retries.

The worker opens a budget for each job (``run.retries + 1`` attempts) and makes it current for the
thread that runs the job; a transport that retries on its own (the OpenAI-compatible backend's HTTP
layer) spends from the same budget instead of multiplying it. Without a current budget (library use)
a transport keeps its own retry policy.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

_current: ContextVar[AttemptBudget | None] = ContextVar("abstractvision_attempts", default=None)


@dataclass
class AttemptBudget:
    """``limit`` attempts for one job; ``used`` counts those started, by any layer."""

    limit: int
    used: int = 0
    started_at: float = field(default_factory=time.perf_counter)

    def start(self) -> bool:
        """Start one more attempt if the budget allows it; returns whether it did."""
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    @property
    def exhausted(self) -> bool:
        return self.used >= self.limit

    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started_at


@contextmanager
def job_attempts(limit: int) -> Iterator[AttemptBudget]:
    """A fresh budget of ``limit`` attempts, current in this thread (and context) while the block runs."""
    budget = AttemptBudget(limit)
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


def current_budget() -> AttemptBudget | None:
    """The budget of the job running in this thread, if a worker runs it."""
    return _current.get()

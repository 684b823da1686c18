"""The worker contract: a stateful callable that turns jobs into assets, built from plain data.

In the Ray Data predictor pattern: ``Worker(group)`` builds its backend from a ``GroupDescription`` (a
picklable value: backend name, model spec, identity and placement options) and loads the model once, on
its first job; ``worker(job)`` returns that job's assets and metadata, or raises ``JobFailed``. It never
touches the manifest or the run folder: an executor moves jobs in and results out, and the driver alone
writes files and marks jobs done. The local executors run it in this process; a distributed executor
runs the same class on another machine, from the same description.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..attempts import job_attempts
from ..backends.base_backend import VisionBackend
from ..errors import GenerationError, Scope, is_retryable, scope_of
from ..registry import ModelSpec
from ..tasks import FILE_PARAMS, get_task
from ..types import GeneratedAsset, VisionRequest
from ..vision_manager import VisionManager
from .config import redact

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroupDescription:
    """Jobs that share one loaded backend: same backend, model and options. Plain data, so it pickles.

    ``job_identity`` is what of the options each job id holds (configured values, files by content).
    """

    key: str
    backend: str
    model: ModelSpec
    identity_options: Mapping[str, Any]
    placement_options: Mapping[str, Any] = field(repr=False)
    job_identity: Mapping[str, Any] = field(default_factory=dict)

    def options(self) -> dict[str, Any]:
        return {**self.identity_options, **self.placement_options}

    def recorded_options(self) -> dict[str, Any]:
        """The options as the manifest records them: secrets redacted."""
        return redact(self.options())


@dataclass(frozen=True)
class JobSpec:
    """One job as the manifest holds it: its id, task, identity, and the paths of its input files."""

    job_id: str
    group_key: str
    task: str
    identity: Mapping[str, Any]
    inputs: Mapping[str, str] = field(default_factory=dict)
    interrupted: bool = False
    """A runner died while this job ran: it runs alone, so that a crash it causes again is blamed on it only."""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> JobSpec:
        inputs = json.loads(row["inputs"]) if row["inputs"] else {}
        params = json.loads(row["params"])
        return cls(row["job_id"], row["group_key"], row["task"], params, inputs, bool(row["interrupts"]))


@dataclass
class JobResult:
    assets: list[GeneratedAsset]
    attempts: int
    duration_s: float


class JobFailed(Exception):
    def __init__(self, error: BaseException, attempts: int, duration_s: float = 0.0) -> None:
        super().__init__(str(error))
        self.error, self.attempts, self.duration_s = error, attempts, duration_s

    def __reduce__(self) -> tuple[Any, ...]:
        return JobFailed, (self.error, self.attempts)


class JobNotRun(Exception):
    """An executor's outcome for a job it gives back without running it (Ctrl-C cancelled it while it waited
    on a worker): the job goes back to pending, no attempt counted."""


class Worker:
    """Runs one group's jobs. Build it where the work happens; call it once per job; ``close()`` at the end.

    Args:
        group (`GroupDescription`): what to build.
        retries (`int`, defaults to 0): extra attempts for retryable errors (timeouts, 429, 5xx), counted once
            across layers: a transport's own retries spend from the same budget.
        retry_delay_s (`float`, defaults to 1.0): wait before the first retry, doubled on each further one.
        backend (`VisionBackend`, *optional*): an already built backend to use instead (tests, library use).
    """

    def __init__(
        self,
        group: GroupDescription,
        *,
        retries: int = 0,
        retry_delay_s: float = 1.0,
        backend: VisionBackend | None = None,
    ) -> None:
        from ..backends.factory import create_backend

        self.group = group
        self.retries, self.retry_delay_s = retries, retry_delay_s
        self.backend = backend or create_backend(group.backend, group.model, group.options())
        self.manager = VisionManager(self.backend, group.model)
        self.stop = threading.Event()
        """Set to stop retrying (Ctrl-C): the job in flight finishes or fails, no new attempt starts."""

    def __call__(self, job: JobSpec) -> JobResult:
        """Generate ``job``'s assets within one budget of ``retries + 1`` attempts (backing off)."""
        with job_attempts(self.retries + 1) as budget:
            while True:
                budget.start()
                try:
                    return JobResult(self.generate(job), budget.used, budget.elapsed_s())
                except Exception as exc:
                    if not is_retryable(exc) or budget.exhausted or self.stop.is_set():
                        raise JobFailed(exc, budget.used, budget.elapsed_s()) from exc
                    self.stop.wait(self.retry_delay_s * 2 ** (budget.used - 1))

    def generate(self, job: JobSpec) -> list[GeneratedAsset]:
        """One attempt: the job's request, checked again (cheap), then the backend method of its task."""
        return get_task(job.task).run(self.backend, self.request(job))

    def request(self, job: JobSpec) -> VisionRequest:
        """``job``'s request, checked again (cheap)."""
        task = get_task(job.task)
        params = dict(job.identity["params"])
        files = {name: Path(job.inputs[name]).read_bytes() for name in FILE_PARAMS if name in params}
        return self.manager.prepare(job.task, task.build_request(params, job.identity["seed"], files))

    def batchable(self, jobs: Sequence[JobSpec]) -> bool:
        """Whether ``jobs`` can be one engine call: alike but for their seeds, and the backend batches them."""
        first = jobs[0]
        alike = all(job.task == first.task and job.inputs == first.inputs and _but_seed(job) == _but_seed(first)
                    for job in jobs)  # fmt: skip
        return alike and self.backend.can_batch(first.task, [job.identity["seed"] for job in jobs])

    def run_batch(self, jobs: Sequence[JobSpec]) -> list[JobResult | JobFailed]:
        """``jobs`` (``batchable``) as one engine call; each job's outcome, in order.

        A batch that fails for a reason of its group (a model that will not load) fails each of its jobs
        with it; any other failure (such as memory for the whole batch) runs the jobs one by one, each
        with its own budget of attempts (the failed batch call counted in each job's attempts).
        """
        if len(jobs) == 1:
            return [self._outcome(jobs[0])]
        start = time.perf_counter()
        with job_attempts(1):  # one call: a transport's own retries must not repeat the whole batch
            try:
                assets = self.backend.generate_batch([self.request(job) for job in jobs])
                if len(assets) != len(jobs):  # a server that ignores ``n``: one image per job is owed
                    raise GenerationError(f"a batch of {len(jobs)} jobs came back with {len(assets)} image(s)")
            except Exception as exc:
                if scope_of(exc) is Scope.GROUP or self.stop.is_set():
                    return [JobFailed(exc, 1, time.perf_counter() - start) for _ in jobs]
                log.warning("a batch of %d jobs failed (%s); running them one by one", len(jobs), exc)
                return [self._outcome(job, spent=1) for job in jobs]
        share = (time.perf_counter() - start) / len(jobs)
        return [JobResult([asset], 1, share) for asset in assets]

    def _outcome(self, job: JobSpec, spent: int = 0) -> JobResult | JobFailed:
        try:
            outcome: JobResult | JobFailed = self(job)
        except JobFailed as failed:
            outcome = failed
        outcome.attempts += spent
        return outcome

    def close(self) -> None:
        self.backend.unload()


def _but_seed(job: JobSpec) -> dict[str, Any]:
    return {key: value for key, value in job.identity.items() if key != "seed"}


WorkerFactory = Callable[[GroupDescription], Worker]
"""Builds a group's worker where the work happens (picklable, for executors that run it elsewhere)."""

"""The local executor: a group's jobs on worker threads of this process, their outcomes in the caller's thread.

It takes an iterator of work items and a function, and yields ``(item, outcome)`` in the caller's thread, where
``outcome`` is the function's result or the exception it raised. The caller records outcomes (the manifest has
one writer); it stops by no longer yielding items, and the executor then finishes what is in flight.

The work is pipelined: when the jobs that just finished succeeded, the next ones start before those are handed
back, so the caller writes one job's files while the next one generates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..batching import batches
from ..worker import JobResult

if TYPE_CHECKING:
    import threading

    from ..worker import GroupDescription, JobSpec, WorkerFactory

Item = TypeVar("Item")
JOB_THREAD_PREFIX = "abstractvision-job"
"""The names of the threads jobs run on (the command line looks for them after a second Ctrl-C)."""


class ThreadExecutor(Generic[Item]):
    """``concurrency`` items in flight on worker threads, handed back as they finish.

    Args:
        concurrency (`int`): items run at once (1: one at a time, still off the caller's thread).
        overlaps (`Callable[[Any], bool]`): whether the next items may start before this outcome is handed back;
            outcomes it refuses (failures, by default every exception) are handed back first, so the caller can
            stop before anything else starts.
        alone (`Callable[[Item], bool]`): items that run with nothing else in flight, from their start until
            their outcome has been handed back (the runner's jobs that were running when an earlier runner died:
            if they crash this one too, the crash is theirs alone).
    """

    def __init__(
        self,
        concurrency: int = 1,
        *,
        overlaps: Callable[[Any], bool] = lambda outcome: not isinstance(outcome, BaseException),
        alone: Callable[[Item], bool] = lambda item: False,
    ) -> None:
        self.concurrency, self.overlaps, self.alone = concurrency, overlaps, alone

    def map(self, work: Callable[[Item], Any], items: Iterable[Item]) -> Iterator[tuple[Item, Any]]:
        feed = _Feed(items)
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix=JOB_THREAD_PREFIX)
        running: dict[Future[Any], Item] = {}

        def start(settled: bool) -> None:
            """Start items up to the limit; one that runs alone only once every outcome is handed back
            (``settled``) and nothing runs."""
            while len(running) < self.concurrency and not any(map(self.alone, running.values())):
                item = feed.peek()
                if item is _END or (self.alone(item) and (running or not settled)):
                    return
                running[pool.submit(work, feed.take())] = item

        try:
            start(settled=True)
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                outcomes = [(running.pop(future), _outcome(future)) for future in finished]
                if all(self.overlaps(outcome) and not self.alone(item) for item, outcome in outcomes):
                    start(settled=False)  # the next jobs run while the caller records these
                yield from outcomes
                start(settled=True)
        finally:  # a second Ctrl-C (KeyboardInterrupt) leaves at once; the job in flight ends on its own
            pool.shutdown(wait=not running, cancel_futures=True)


class _Feed(Generic[Item]):
    """An iterator that can show its next item before giving it."""

    def __init__(self, items: Iterable[Item]) -> None:
        self._items, self._next = iter(items), _END

    def peek(self) -> Any:
        if self._next is _END:
            self._next = next(self._items, _END)
        return self._next

    def take(self) -> Item:
        item, self._next = self.peek(), _END
        return item


def _outcome(future: Future[Any]) -> Any:
    error = future.exception()
    return error if error is not None else future.result()


_END: Any = object()


class LocalWorkers:
    """A group's one worker, in this process, fed by ``concurrency`` threads (pipelined: see the module); with
    ``batch_size`` above 1, jobs that one engine call can make go to ``Worker.run_batch`` together."""

    def __init__(self, concurrency: int, batch_size: int = 1) -> None:
        self.concurrency, self.batch_size = concurrency, batch_size

    def run(
        self, group: GroupDescription, make_worker: WorkerFactory, items: Iterable[JobSpec], stop: threading.Event
    ) -> Iterator[tuple[JobSpec, Any]]:
        worker = make_worker(group)
        worker.stop = stop  # Ctrl-C also stops retries
        try:
            if self.batch_size <= 1:
                jobs = ThreadExecutor(self.concurrency, alone=_interrupted)
                yield from jobs.map(worker, items)
                return
            batch_jobs = ThreadExecutor(
                self.concurrency,
                overlaps=lambda outcomes: all(isinstance(outcome, JobResult) for outcome in outcomes),
                alone=lambda batch: any(map(_interrupted, batch)),
            )
            for batch, outcomes in batch_jobs.map(worker.run_batch, batches(items, self.batch_size, worker.batchable)):
                if isinstance(outcomes, BaseException):  # outside the worker contract: each job of the batch
                    outcomes = [outcomes] * len(batch)
                yield from zip(batch, outcomes, strict=True)
        finally:
            worker.close()


def _interrupted(job: JobSpec) -> bool:
    return job.interrupted

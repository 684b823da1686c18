"""Local executors: one job at a time in the calling thread, or N at once in a thread pool.

Both take an iterator of work items and a function, and yield ``(item, outcome)`` in the caller's
thread, where ``outcome`` is the function's result or the exception it raised. The caller records
outcomes (the manifest has one writer); it stops by no longer yielding items, and the executor
then finishes what is in flight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, TypeVar

from ..batching import batches

if TYPE_CHECKING:
    import threading

    from ..worker import GroupDescription, JobSpec, WorkerFactory

Item = TypeVar("Item")


class LocalExecutor:
    """Sequential, in the calling thread: no threads, the lowest overhead, the default."""

    def map(self, work: Callable[[Item], Any], items: Iterable[Item]) -> Iterator[tuple[Item, Any]]:
        for item in items:
            try:
                yield item, work(item)
            except Exception as exc:
                yield item, exc


class ThreadExecutor:
    """``concurrency`` jobs in flight (backends that serve requests in parallel, such as HTTP servers)."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency

    def map(self, work: Callable[[Item], Any], items: Iterable[Item]) -> Iterator[tuple[Item, Any]]:
        source = iter(items)
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="abstractvision-job") as pool:
            running: dict[Future[Any], Item] = {}
            exhausted = False
            while running or not exhausted:
                while not exhausted and len(running) < self.concurrency:
                    item = next(source, _END)
                    if item is _END:
                        exhausted = True
                    else:
                        running[pool.submit(work, item)] = item  # type: ignore[arg-type]
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    item = running.pop(future)
                    error = future.exception()
                    yield item, (error if error is not None else future.result())


_END = object()


def make_executor(concurrency: int) -> LocalExecutor | ThreadExecutor:
    return LocalExecutor() if concurrency <= 1 else ThreadExecutor(concurrency)


class LocalWorkers:
    """A group's one worker, in this process, fed serially or by ``concurrency`` threads; with ``batch_size``
    above 1, jobs that one engine call can make go to ``Worker.run_batch`` together."""

    def __init__(self, concurrency: int, batch_size: int = 1) -> None:
        self.concurrency, self.batch_size = concurrency, batch_size

    def run(
        self, group: GroupDescription, make_worker: WorkerFactory, items: Iterable[JobSpec], stop: threading.Event
    ) -> Iterator[tuple[JobSpec, Any]]:
        worker = make_worker(group)
        worker.stop = stop  # Ctrl-C also stops retries
        try:
            if self.batch_size <= 1:
                yield from make_executor(self.concurrency).map(worker, items)
                return
            jobs = batches(items, self.batch_size, worker.batchable)
            for batch, outcomes in make_executor(self.concurrency).map(worker.run_batch, jobs):
                if isinstance(outcomes, BaseException):  # outside the worker contract: each job of the batch
                    outcomes = [outcomes] * len(batch)
                yield from zip(batch, outcomes, strict=True)
        finally:
            worker.close()

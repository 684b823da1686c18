"""The writer thread: a job's files are written (PNG text chunks, SHA-256, sidecar) while the next job generates.

It writes files only. The driver thread stays the manifest's one writer: it hands each finished job over with
``submit`` and marks it done when ``written`` (or ``drain``) reports its files in place, so a crash at any
moment loses no job recorded done; a job whose files were written but not yet recorded is redone on resume.
At most ``depth`` jobs wait to be written, so finished images never pile up in memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")
Written = TypeVar("Written")


class WriterThread(Generic[Job, Result, Written]):
    """Runs ``write(job, result)`` on one thread, in submission order; a failed write is raised in the driver."""

    def __init__(self, write: Callable[[Job, Result], Written], depth: int = 2) -> None:
        self._write = write
        self._todo: queue.Queue[tuple[Job, Result] | None] = queue.Queue(depth)
        self._done: queue.SimpleQueue[tuple[Job, Result, Written | BaseException]] = queue.SimpleQueue()
        self._pending = 0
        self._abandon = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="abstractvision-writer", daemon=True)

    def __enter__(self) -> WriterThread[Job, Result, Written]:
        self._thread.start()
        return self

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        if exc_type is not None:  # aborting: what is not written yet stays undone (pending on the next run)
            self._abandon.set()
        self._todo.put(None)
        self._thread.join()

    def submit(self, job: Job, result: Result) -> None:
        """Queue ``job``'s files; blocks while ``depth`` jobs already wait."""
        self._pending += 1
        self._todo.put((job, result))

    def written(self) -> Iterator[tuple[Job, Result, Written]]:
        """The jobs whose files are in place since the last call, without waiting."""
        while self._pending:
            try:
                item = self._done.get_nowait()
            except queue.Empty:
                return
            yield self._finished(item)

    def drain(self) -> Iterator[tuple[Job, Result, Written]]:
        """Every job still queued, as its files are in place."""
        while self._pending:
            yield self._finished(self._done.get())

    def _finished(self, item: tuple[Job, Result, Written | BaseException]) -> tuple[Job, Result, Written]:
        self._pending -= 1
        job, result, written = item
        if isinstance(written, BaseException):
            raise written
        return job, result, written

    def _loop(self) -> None:
        while (item := self._todo.get()) is not None:
            if self._abandon.is_set():
                continue
            job, result = item
            try:
                written: Written | BaseException = self._write(job, result)
            except BaseException as exc:  # handed to the driver, which raises it
                written = exc
            self._done.put((job, result, written))

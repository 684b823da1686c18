"""The writer thread: files written off the driver thread, reported in order, a failed write raised in the driver,
and nothing more written once the driver aborts."""

from __future__ import annotations

import threading

import pytest

from abstractvision.pipeline.writer_thread import WriterThread


def test_writes_happen_on_another_thread_and_come_back_in_order() -> None:
    threads: list[str] = []

    def write(job: int, result: str) -> str:
        threads.append(threading.current_thread().name)
        return f"{job}:{result}"

    with WriterThread(write, depth=2) as writer:
        for job in range(5):
            writer.submit(job, "png")
        done = [*writer.written(), *writer.drain()]
    assert [written for _, _, written in done] == [f"{job}:png" for job in range(5)]
    assert set(threads) == {"abstractvision-writer"}


def test_a_failed_write_is_raised_in_the_driver() -> None:
    def write(job: int, result: str) -> str:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), WriterThread(write) as writer:
        writer.submit(1, "png")
        list(writer.drain())


def test_an_abort_writes_nothing_more() -> None:
    release, written = threading.Event(), []

    def write(job: int, result: str) -> int:
        release.wait(5)
        written.append(job)
        return job

    with pytest.raises(KeyboardInterrupt), WriterThread(write, depth=3) as writer:
        for job in range(3):
            writer.submit(job, "png")
        threading.Timer(0.2, release.set).start()  # the first write ends after the abort
        raise KeyboardInterrupt
    assert written in ([], [0])  # only a write already under way finishes (atomic); the queued ones never start

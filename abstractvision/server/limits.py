"""Limits that keep one server healthy: generations at a time, requests waiting, upload size."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from .errors import ApiError

T = TypeVar("T")


class GenerationGate:
    """Runs blocking generations in worker threads, at most ``max_concurrent`` at a time.

    Local pipelines are not thread-safe, so the server keeps ``max_concurrent`` at 1 for them (one
    generation at a time per backend). Requests beyond ``max_waiting`` queued ones get 429 with
    ``Retry-After`` instead of piling up.
    """

    def __init__(self, max_concurrent: int = 1, max_waiting: int = 32) -> None:
        self.max_concurrent = max_concurrent
        self.max_waiting = max_waiting
        self.waiting = 0
        self.active = 0
        self._semaphore: asyncio.Semaphore | None = None

    async def run(self, work: Callable[[], T]) -> T:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.max_concurrent)
        semaphore = self._semaphore
        if self.waiting >= self.max_waiting:
            raise ApiError(
                429,
                f"server busy: {self.waiting} requests already waiting; retry later",
                type="server_error",
                code="server_busy",
                headers={"Retry-After": "1"},
            )
        self.waiting += 1
        try:
            await semaphore.acquire()
        finally:
            self.waiting -= 1
        self.active += 1
        # The slot is released when the thread finishes, even if the request is cancelled before: a
        # generation still running in its thread must keep the backend to itself.
        running = asyncio.ensure_future(run_in_threadpool(work))
        running.add_done_callback(lambda _: self._release(semaphore))
        return await asyncio.shield(running)

    def _release(self, semaphore: asyncio.Semaphore) -> None:
        self.active -= 1
        semaphore.release()


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"request body larger than the server's limit of {limit} bytes; send smaller images "
        "(or start the server with a larger --max-upload-mb)",
        code="request_too_large",
    )


async def read_limited(stream: AsyncIterator[bytes], declared_length: str | None, limit: int) -> bytes:
    """The whole request body, refusing (413) one that declares or turns out to exceed ``limit``."""
    if declared_length and declared_length.isdigit() and int(declared_length) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)

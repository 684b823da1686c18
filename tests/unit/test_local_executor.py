"""The local executor's pipelining: what starts before an outcome is handed back, and what never does.

Real threads, no model: the work function records when each item starts; the caller records what had started when
each outcome reached it (the runner writes files and the manifest at that point).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from abstractvision.pipeline.executors import ThreadExecutor


class Trace:
    def __init__(self, fail: set[int] = frozenset(), hold: set[int] = frozenset()) -> None:
        self.fail, self.hold = fail, hold
        self.started: list[int] = []
        self.pulled: list[int] = []
        self.release = threading.Event()

    def items(self, n: int) -> Iterator[int]:
        for item in range(n):
            self.pulled.append(item)
            yield item

    def work(self, item: int) -> int:
        self.started.append(item)
        if item in self.hold:
            self.release.wait(30)
        if item in self.fail:
            raise ValueError(f"item {item} failed")
        return item * 10


def handed_back(executor: ThreadExecutor[int], trace: Trace, n: int) -> list[tuple[int, object, list[int]]]:
    """Each outcome with the items started by the time it reached the caller (pulled and not held back: an item is
    submitted in the same step as it is pulled, unless it must run alone)."""
    return [(item, outcome, list(trace.started)) for item, outcome in executor.map(trace.work, trace.items(n))]


def pulled_when_handed_back(trace: Trace, n: int, **options: object) -> list[tuple[int, object, list[int]]]:
    return [
        (item, outcome, list(trace.pulled))
        for item, outcome in ThreadExecutor(1, **options).map(trace.work, trace.items(n))
    ]


def test_the_next_job_starts_before_a_success_is_handed_back() -> None:
    seen = pulled_when_handed_back(Trace(), 4)
    assert [(item, outcome) for item, outcome, _ in seen] == [(0, 0), (1, 10), (2, 20), (3, 30)]
    for item, _, pulled in seen[:-1]:
        assert pulled == list(range(item + 2)), "the caller recorded a job while nothing else generated"


def test_a_failure_is_handed_back_before_anything_else_starts() -> None:
    seen = pulled_when_handed_back(Trace(fail={1}), 4)
    item, outcome, pulled = seen[1]
    assert item == 1 and isinstance(outcome, ValueError)
    assert pulled == [0, 1]  # the caller can still stop the group here: nothing else has started
    assert [item for item, _, _ in seen] == [0, 1, 2, 3]


def test_a_job_that_must_run_alone_waits_for_every_outcome_and_nothing_starts_beside_it() -> None:
    trace = Trace()
    seen = handed_back(ThreadExecutor(2, alone=lambda item: item == 2), trace, 5)
    by_item = {item: started for item, _, started in seen}
    assert 2 not in by_item[0] and 2 not in by_item[1], "it started before earlier jobs were recorded"
    assert by_item[2] == [0, 1, 2], "another job ran beside it"
    assert sorted(item for item, _, _ in seen) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("concurrency", [1, 3])
def test_concurrency_bounds_the_jobs_in_flight(concurrency: int) -> None:
    active, most = [0], [0]
    lock = threading.Lock()

    def work(item: int) -> int:
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.01)
        with lock:
            active[0] -= 1
        return item

    results = dict(ThreadExecutor(concurrency).map(work, range(12)))
    assert results == {i: i for i in range(12)} and most[0] == concurrency


def test_a_second_ctrl_c_leaves_at_once_without_waiting_for_the_job_in_flight() -> None:
    trace = Trace(hold={1})
    outcomes = ThreadExecutor(1).map(trace.work, trace.items(3))
    assert next(outcomes) == (0, 0)
    while trace.started != [0, 1]:  # job 1 now runs, held
        time.sleep(0.01)
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        outcomes.throw(KeyboardInterrupt)
    assert time.monotonic() - began < 5
    assert trace.started == [0, 1]  # job 2 never started
    trace.release.set()

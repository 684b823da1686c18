"""The Ray executor: each group's workers are Ray actors that live for the group and keep their model loaded.

Each actor builds ``Worker(group)`` from the picklable group description, so it runs exactly what a local
run runs. The driver keeps ``_IN_FLIGHT_PER_WORKER`` jobs queued on each actor (one running, one waiting,
so no actor idles between results and finished assets never pile up), gets the assets back as bytes and
stays the only process that writes files and the manifest.

Ray runs an actor call at most once. When an actor dies, every job queued on it goes back to the front of
the queue and the actor is replaced; the job that was running counts an attempt, and a job that was
running each time a worker died ``run.max_interrupts`` times is quarantined (``WorkerCrashedError``). If
the driver dies, its jobs stay ``running`` in the manifest and the next run picks them up, as locally.
"""

from __future__ import annotations

import functools
import logging
import pickle
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ...errors import GenerationError, WorkerCrashedError
from ..worker import GroupDescription, JobFailed, JobResult, JobSpec, WorkerFactory
from .ray_cluster import ClusterPlan, connect, fit_workers

if TYPE_CHECKING:
    from ..config import RunSettings

log = logging.getLogger(__name__)

_IN_FLIGHT_PER_WORKER = 2


class _RayWorker:
    """The actor: one ``Worker`` for the group's whole run. Errors come back as values, never as Ray errors."""

    def __init__(self, group: GroupDescription, make_worker: WorkerFactory) -> None:
        self.error: BaseException | None = None
        try:
            self.worker = make_worker(group)
        except Exception as exc:  # reported by ready(), raised in the driver as in a local run
            self.error = _portable(exc)

    def ready(self) -> BaseException | None:
        return self.error

    def run(self, job: JobSpec) -> Any:
        if self.error is not None:  # a replacement actor that could not build its worker
            return self.error
        try:
            return self.worker(job)
        except Exception as exc:
            return _portable(exc)


def _portable(error: BaseException) -> BaseException:
    """``error`` if it survives pickling, else a ``GenerationError`` that says what it was."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        inner = error.error if isinstance(error, JobFailed) else error
        portable = GenerationError(f"{type(inner).__name__}: {inner}")
        return JobFailed(portable, error.attempts) if isinstance(error, JobFailed) else portable


class RayWorkers:
    """Runs each group on Ray actors. Build it with ``connect(settings)``."""

    def __init__(self, plan: ClusterPlan, max_deaths: int) -> None:
        self.plan, self.max_deaths = plan, max_deaths

    @classmethod
    def connect(cls, settings: RunSettings) -> RayWorkers:
        """Join (or start) the cluster ``run.ray_address`` names and fit the workers to its resources."""
        return cls(fit_workers(settings, connect(settings.ray_address)), settings.max_interrupts)

    def run(
        self, group: GroupDescription, make_worker: WorkerFactory, items: Iterable[JobSpec], stop: threading.Event
    ) -> Iterator[tuple[JobSpec, Any]]:
        """Yields ``(job, outcome)`` as jobs finish. ``stop`` is the runner's: it ends ``items``, and what is
        in flight (or sent back by a dead worker) still runs to the end."""
        import ray

        actor_class = ray.remote(_RayWorker).options(num_cpus=self.plan.cpus, num_gpus=self.plan.gpus)
        actors = [actor_class.remote(group, make_worker) for _ in range(self.plan.workers)]
        try:
            for error in ray.get([actor.ready.remote() for actor in actors]):
                if error is not None:
                    raise error
            log.info("%d Ray worker(s) for group %s on %s", len(actors), group.key, self.plan.where)
            spawn = functools.partial(actor_class.remote, group, make_worker)
            yield from _Dispatch(actors, spawn, self.max_deaths).outcomes(iter(items))
        finally:
            for actor in actors:
                ray.kill(actor, no_restart=True)


class _Dispatch:
    """The driver's loop: keep every actor's queue full, collect results, resend what dead actors held."""

    def __init__(self, actors: list[Any], spawn: Callable[[], Any], max_deaths: int) -> None:
        self.actors, self.spawn, self.max_deaths = actors, spawn, max_deaths
        self.queues: list[deque[tuple[Any, JobSpec]]] = [deque() for _ in actors]
        self.owner: dict[Any, int] = {}
        self.returned: deque[JobSpec] = deque()
        self.deaths: Counter[str] = Counter()

    def outcomes(self, source: Iterator[JobSpec]) -> Iterator[tuple[JobSpec, Any]]:
        import ray
        from ray.exceptions import RayActorError, RayError

        while True:
            self._fill(source)
            if not self.owner:
                return
            (ref,), _ = ray.wait(list(self.owner), num_returns=1)
            index = self.owner[ref]
            try:
                outcome = ray.get(ref)
            except RayActorError as exc:
                yield from self._replace(index, exc)
                continue
            except RayError as exc:  # the call failed in Ray itself (an object lost, a result that won't unpickle)
                outcome = exc
            job = self._forget(index, ref)
            yield job, self._with_deaths(job, outcome)

    def _fill(self, source: Iterator[JobSpec]) -> None:
        for index, actor in enumerate(self.actors):
            while len(self.queues[index]) < _IN_FLIGHT_PER_WORKER:
                job = self.returned.popleft() if self.returned else next(source, None)
                if job is None:
                    return
                ref = actor.run.remote(job)
                self.queues[index].append((ref, job))
                self.owner[ref] = index

    def _forget(self, index: int, ref: Any) -> JobSpec:
        del self.owner[ref]
        queue = self.queues[index]
        position = next(i for i, (queued, _) in enumerate(queue) if queued == ref)
        job = queue[position][1]
        del queue[position]
        return job

    def _replace(self, index: int, error: BaseException) -> Iterator[tuple[JobSpec, Any]]:
        """Actor ``index`` died: its queued jobs go back, the one it was running counts a death."""
        import ray

        queue = self.queues[index]
        jobs = [job for _, job in queue]
        for ref, _ in queue:
            del self.owner[ref]
        queue.clear()
        ray.kill(self.actors[index], no_restart=True)
        self.actors[index] = self.spawn()
        running, waiting = jobs[0], jobs[1:]  # an actor runs its calls one at a time, in the order sent
        self.deaths[running.job_id] += 1
        log.warning("a Ray worker died running job %s (%s); replaced, its jobs sent again", running.job_id, error)
        self.returned.extendleft(reversed(waiting))
        if self.deaths[running.job_id] >= self.max_deaths:
            crash = WorkerCrashedError(
                f"a worker died {self.deaths[running.job_id]} times while running this job; it is quarantined "
                "(look for a crash, such as running out of memory, in the Ray worker logs)",
                job_id=running.job_id,
            )
            yield running, self._with_deaths(running, JobFailed(crash, 0))
        else:
            self.returned.appendleft(running)

    def _with_deaths(self, job: JobSpec, outcome: Any) -> Any:
        """The attempts of ``outcome`` plus the worker deaths ``job`` went through."""
        if isinstance(outcome, (JobResult, JobFailed)):
            outcome.attempts += self.deaths[job.job_id]
        return outcome

"""The Ray executor: each group's workers are Ray actors that live for the group and keep their model loaded.

Each actor builds ``Worker(group)`` from the picklable group description, so it runs exactly what a local
run runs. An actor runs ``run.concurrency`` jobs at once (a threaded actor: for backends that wait on a
server), and the driver keeps one more queued on it, so that no actor idles between results and finished
assets never pile up. The driver gets the assets back as bytes and stays the only process that writes files
and the manifest. Ctrl-C cancels the queued calls: they go back to pending, as in a local run.

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
from ..worker import GroupDescription, JobFailed, JobNotRun, JobResult, JobSpec, WorkerFactory
from .ray_cluster import ClusterPlan, connect, fit_workers

if TYPE_CHECKING:
    from ..config import RunSettings

log = logging.getLogger(__name__)

_POLL_S = 0.1
"""How often the driver's loop looks at ``stop`` while it waits for results."""


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

    def __init__(self, plan: ClusterPlan, max_deaths: int, concurrency: int = 1) -> None:
        self.plan, self.max_deaths, self.concurrency = plan, max_deaths, concurrency

    @classmethod
    def connect(cls, settings: RunSettings) -> RayWorkers:
        """Join (or start) the cluster ``run.ray_address`` names and fit the workers to its resources."""
        where = connect(settings.ray_address)
        return cls(fit_workers(settings, where), settings.max_interrupts, settings.concurrency)

    def run(
        self, group: GroupDescription, make_worker: WorkerFactory, items: Iterable[JobSpec], stop: threading.Event
    ) -> Iterator[tuple[JobSpec, Any]]:
        """Yields ``(job, outcome)`` as jobs finish. ``stop`` is the runner's: it ends ``items``, the jobs that
        are running finish, and those still waiting on an actor are cancelled and come back as ``JobNotRun``."""
        import ray

        actor_class = ray.remote(_RayWorker).options(
            num_cpus=self.plan.cpus, num_gpus=self.plan.gpus, max_concurrency=self.concurrency
        )
        actors = [actor_class.remote(group, make_worker) for _ in range(self.plan.workers)]
        try:
            for error in ray.get([actor.ready.remote() for actor in actors]):
                if error is not None:
                    raise error
            log.info("%d Ray worker(s) for group %s on %s", len(actors), group.key, self.plan.where)
            spawn = functools.partial(actor_class.remote, group, make_worker)
            yield from _Dispatch(actors, spawn, self.max_deaths, self.concurrency).outcomes(iter(items), stop)
        finally:
            for actor in actors:
                ray.kill(actor, no_restart=True)


class _Dispatch:
    """The driver's loop: keep every actor's queue full, collect results, resend what dead actors held.

    An actor runs ``running`` calls at once (``run.concurrency``) in the order sent; one more waits on it, so
    that it never idles between results."""

    def __init__(self, actors: list[Any], spawn: Callable[[], Any], max_deaths: int, running: int = 1) -> None:
        self.actors, self.spawn, self.max_deaths, self.running = actors, spawn, max_deaths, running
        self.queues: list[deque[tuple[Any, JobSpec]]] = [deque() for _ in actors]
        self.owner: dict[Any, int] = {}
        self.returned: deque[JobSpec] = deque()
        self.deaths: Counter[str] = Counter()
        self.cancelled = False

    def outcomes(self, source: Iterator[JobSpec], stop: threading.Event) -> Iterator[tuple[JobSpec, Any]]:
        import ray
        from ray.exceptions import RayActorError, RayError, TaskCancelledError

        while True:
            if stop.is_set():
                yield from self._cancel_waiting()
            else:
                self._fill(source)
            if not self.owner:
                return
            ready, _ = ray.wait(list(self.owner), num_returns=1, timeout=_POLL_S)  # timeout: see Ctrl-C soon
            if not ready:
                continue
            (ref,) = ready
            index = self.owner[ref]
            try:
                outcome = ray.get(ref)
            except RayActorError as exc:
                yield from self._replace(index, exc)
                continue
            except TaskCancelledError:
                outcome = JobNotRun()
            except RayError as exc:  # the call failed in Ray itself (an object lost, a result that won't unpickle)
                outcome = exc
            job = self._forget(index, ref)
            yield job, self._with_deaths(job, outcome)

    def _fill(self, source: Iterator[JobSpec]) -> None:
        for index, actor in enumerate(self.actors):
            while len(self.queues[index]) < self.running + 1:
                job = self.returned.popleft() if self.returned else next(source, None)
                if job is None:
                    return
                ref = actor.run.remote(job)
                self.queues[index].append((ref, job))
                self.owner[ref] = index

    def _cancel_waiting(self) -> Iterator[tuple[JobSpec, Any]]:
        """Stopping: the calls still waiting on an actor are cancelled (once), the jobs a dead actor gave back
        are not sent again. A call that started meanwhile runs to the end and is recorded as usual."""
        import ray

        if not self.cancelled:
            self.cancelled = True
            for queue in self.queues:
                for ref, _ in list(queue)[self.running :]:
                    ray.cancel(ref)
        while self.returned:
            yield self.returned.popleft(), JobNotRun()

    def _forget(self, index: int, ref: Any) -> JobSpec:
        del self.owner[ref]
        queue = self.queues[index]
        position = next(i for i, (queued, _) in enumerate(queue) if queued == ref)
        job = queue[position][1]
        del queue[position]
        return job

    def _replace(self, index: int, error: BaseException) -> Iterator[tuple[JobSpec, Any]]:
        """Actor ``index`` died: its queued jobs go back, the ones it was running count a death."""
        import ray

        queue = self.queues[index]
        jobs = [job for _, job in queue]
        for ref, _ in queue:
            del self.owner[ref]
        queue.clear()
        ray.kill(self.actors[index], no_restart=True)
        self.actors[index] = self.spawn()
        running, waiting = jobs[: self.running], jobs[self.running :]  # calls start in the order sent
        self.returned.extendleft(reversed(waiting))
        for job in reversed(running):
            self.deaths[job.job_id] += 1
            log.warning("a Ray worker died running job %s (%s); replaced, its jobs sent again", job.job_id, error)
            if self.deaths[job.job_id] >= self.max_deaths:
                crash = WorkerCrashedError(
                    f"a worker died {self.deaths[job.job_id]} times while running this job; it is quarantined "
                    "(look for a crash, such as running out of memory, in the Ray worker logs)",
                    job_id=job.job_id,
                )
                yield job, self._with_deaths(job, JobFailed(crash, 0))
            else:
                self.returned.appendleft(job)

    def _with_deaths(self, job: JobSpec, outcome: Any) -> Any:
        """The attempts of ``outcome`` plus the worker deaths ``job`` went through."""
        if isinstance(outcome, (JobResult, JobFailed)):
            outcome.attempts += self.deaths[job.job_id]
        return outcome

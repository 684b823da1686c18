"""The Ray executor: each group's workers are Ray actors that live for the group and keep their model loaded.

Each actor builds ``Worker(group)`` from the picklable group description, so it runs exactly what a local
run runs. The driver keeps ``_IN_FLIGHT_PER_WORKER`` jobs queued on each actor (one running, one waiting,
so no actor idles between results and finished assets never pile up), gets the assets back as bytes and
stays the only process that writes files and the manifest.

Ray runs an actor call at most once. When an actor dies, every job queued on it goes back to the front of
the queue and the actor is replaced; the job that was running counts an attempt, and a job that was
running each time a worker died ``_MAX_WORKER_DEATHS`` times is quarantined (``WorkerCrashedError``). If
the driver dies, its jobs stay ``running`` in the manifest and the next run picks them up, as locally.
"""

from __future__ import annotations

import logging
import pickle
import socket
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import BackendUnavailableError, GenerationError, InvalidParameterError, WorkerCrashedError
from ..worker import GroupDescription, JobFailed, JobResult, JobSpec, WorkerFactory

if TYPE_CHECKING:
    from ..config import RunSettings

log = logging.getLogger(__name__)

_IN_FLIGHT_PER_WORKER = 2
_MAX_WORKER_DEATHS = 2
# TODO(run.max_interrupts): read the local runner's quarantine setting once it lands, instead of this constant.
_CONNECT_TIMEOUT_S = 3.0
_DEFAULT_PORT = 6379


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


@dataclass(frozen=True)
class _Plan:
    """How many actors, with which resources, on which cluster (named in errors)."""

    where: str
    workers: int
    cpus: float
    gpus: float


class RayWorkers:
    """Runs each group on Ray actors. Build it with ``connect(settings)``."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan

    @classmethod
    def connect(cls, settings: RunSettings) -> RayWorkers:
        """Join (or start) the cluster ``run.ray_address`` names and fit the workers to its resources."""
        where = _connect(settings.ray_address)
        return cls(_fit(settings, where))

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
            yield from _Dispatch(actors, lambda: actor_class.remote(group, make_worker)).outcomes(iter(items))
        finally:
            for actor in actors:
                ray.kill(actor, no_restart=True)


class _Dispatch:
    """The driver's loop: keep every actor's queue full, collect results, resend what dead actors held."""

    def __init__(self, actors: list[Any], spawn: Callable[[], Any]) -> None:
        self.actors, self.spawn = actors, spawn
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
        if self.deaths[running.job_id] >= _MAX_WORKER_DEATHS:
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


def _connect(address: str | None) -> str:
    """Join the cluster at ``address`` (``auto``: the one on this machine) or, for ``None``, start a local
    Ray. Returns how errors name it. An unreachable address fails within seconds, naming it."""
    try:
        import ray
    except ImportError as exc:
        raise BackendUnavailableError(
            "`run.executor=ray` needs Ray, which is not installed: pip install 'abstractvision[ray]'"
        ) from exc
    where = "the local Ray on 127.0.0.1" if address is None else f"the Ray cluster at {address!r}"
    if ray.is_initialized():
        ray.shutdown()  # a previous run's session: join what this run names
    if address not in (None, "auto"):
        _check_reachable(address)
    options: dict[str, Any] = {"address": address, "include_dashboard": False, "log_to_driver": False}
    if address is None:
        options["_node_ip_address"] = "127.0.0.1"
    try:
        ray.init(**options, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        hint = "start one with `ray start --head`" if address == "auto" else "check the address"
        raise InvalidParameterError(
            "run.ray_address",
            f"cannot join {where}: {exc}; {hint}, or leave it unset to start a local Ray",
        ) from exc
    return where


def _check_reachable(address: str) -> None:
    """A TCP connection to ``address`` (``host:port`` or ``ray://host:port``), in seconds rather than Ray's
    minute of retries."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        host, port = address.removeprefix("ray://"), str(_DEFAULT_PORT)
    try:
        socket.create_connection((host, int(port)), timeout=_CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise InvalidParameterError(
            "run.ray_address",
            f"cannot reach a Ray cluster at {address!r} ({exc}); check that `ray start --head` runs there and "
            "the port is open, or use `auto` for the cluster on this machine, or leave it unset to start a local Ray",
        ) from exc


def _fit(settings: RunSettings, where: str) -> _Plan:
    """The workers' resources checked against the cluster's nodes, before any actor (and model) starts.
    ``run.workers`` unset: as many as fit, which is one per GPU with ``run.gpus_per_worker=1``."""
    import ray

    nodes = [node["Resources"] for node in ray.nodes() if node.get("Alive")]
    cpus, gpus = settings.cpus_per_worker, settings.gpus_per_worker
    for name, wanted, key in (("gpus_per_worker", gpus, "GPU"), ("cpus_per_worker", cpus, "CPU")):
        most = max((node.get(key, 0.0) for node in nodes), default=0.0)
        if wanted > most:
            raise InvalidParameterError(
                f"run.{name}",
                f"each worker asks for {wanted:g} {key}(s), but no node of {where} has that many "
                f"(the most on one node: {most:g}); lower run.{name} or add nodes that have them",
            )
    fits = sum(_fits_on(node, cpus, gpus) for node in nodes)
    workers = settings.workers or fits
    if workers > fits:
        raise InvalidParameterError(
            "run.workers",
            f"{workers} workers of {cpus:g} CPU(s) and {gpus:g} GPU(s) each do not fit {where} "
            f"({fits} fit); lower run.workers or leave it unset for as many as fit",
        )
    return _Plan(where, workers, cpus, gpus)


def _fits_on(node: dict[str, float], cpus: float, gpus: float) -> int:
    counts = [int(node.get(key, 0.0) // wanted) for key, wanted in (("CPU", cpus), ("GPU", gpus)) if wanted > 0]
    return min(counts) if counts else 1

"""The runner: plan, record in the manifest, execute group by group, resume.

Order of work: validate everything and build the backends (no weights loaded), and only then touch
the run folder: lock it, record the plan, check finished outputs, run what is left. Each backend
group (backend + options + model) loads once, runs all of its jobs, and unloads. This (driver) thread alone writes
the manifest: it writes a job's files and marks it done while the next job generates on the executor's thread.
The runner never imports torch; backends do, when they load.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from ..errors import AbstractVisionError, BackendConnectionError, RunError, RunWriteError, Scope, scope_of
from ..outputs.writer import outputs_intact, write_job_outputs
from .config import RunConfig, redact_overrides
from .executors import open_executor
from .manifest import Manifest
from .plan import Plan
from .preflight import preflight
from .preview import RunPlan
from .run_dir import RunDir
from .worker import GroupDescription, JobFailed, JobNotRun, JobResult, JobSpec, Worker, WorkerFactory

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    run_dir: Path
    jobs: int = 0
    already_done: int = 0
    redone: int = 0
    done: int = 0
    failed: int = 0
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    """Jobs skipped as possibly crashing the runner (interrupted ``run.max_interrupts`` times)."""
    interrupted: bool = False
    elapsed_s: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)
    stopped_groups: list[StoppedGroup] = field(default_factory=list)
    advice: dict[str, int] = field(default_factory=dict)
    """What to do about this run's failed jobs (by their error class), and how many jobs each concerns."""

    @property
    def exit_code(self) -> int:
        return 130 if self.interrupted else (1 if self.failed or self.stopped_groups or self.quarantined else 0)


@dataclass
class StoppedGroup:
    """A backend group stopped by an error that every one of its jobs would hit; its jobs stay pending."""

    model: str
    backend: str
    error: BaseException
    reason: str
    pending: int = 0

    @property
    def advice(self) -> str:
        return str(getattr(self.error, "advice", "fix the cause named above, then run the same command"))


class _GroupGuard:
    """Decides when a group stops: an error of group scope, or ``limit`` connection failures in a row
    (attempts of jobs that ended unable to reach the server: the circuit breaker)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.connection_failures = 0
        self.streak: list[str] = []
        """Jobs failed on a connection error in the current streak: released to pending if the breaker trips."""
        self.stopped: StoppedGroup | None = None

    def observe(self, job_id: str, failed: JobFailed | None) -> str | None:
        """Account for one finished job; returns why the group must stop, if it must."""
        if failed is None or not isinstance(failed.error, BackendConnectionError):
            self.connection_failures, self.streak = 0, []
        if failed is None:
            return None
        if scope_of(failed.error) is Scope.GROUP:
            return "every job of this group would fail the same way"
        if isinstance(failed.error, BackendConnectionError):
            self.connection_failures += failed.attempts
            if self.connection_failures >= self.limit:
                return f"{self.connection_failures} connection failures in a row (run.max_connection_failures)"
            self.streak.append(job_id)
        return None


class Runner:
    """Run ``config``. Each group's jobs go through a ``Worker`` built by ``worker_factory``
    (default: ``Worker(group, retries=..., retry_delay_s=...)`` from the run settings)."""

    def __init__(
        self,
        config: RunConfig,
        *,
        argv: list[str] | None = None,
        worker_factory: WorkerFactory | None = None,
        out: TextIO | None = None,
    ) -> None:
        self.config = config
        self.settings = config.run
        self.argv = argv
        self.out = out or sys.stdout
        self.stop = threading.Event()
        self._make_worker = worker_factory or partial(
            Worker, retries=self.settings.retries, retry_delay_s=self.settings.retry_delay_s
        )  # a partial, not a method: executors may pickle it to build workers elsewhere

    def run(self) -> RunSummary:
        plan = Plan(self.config)  # every input checked, options and files validated, no weights loaded
        run_dir = self.config.run_dir()
        network = not self.settings.dry_run or self.settings.dry_run_network
        checks = [(group, plan.backend_of(key)) for key, group in plan.groups.items()]
        for note in preflight(checks, run_dir, network=network):
            print(f"note: {note}", file=sys.stderr)
        if self.settings.dry_run:
            return self._dry_run(plan, run_dir)
        self._executor = open_executor(self.settings)  # Ray: joined and its resources checked, folder untouched
        with RunDir(run_dir).open_for_writing() as manifest:
            return self._run(plan, run_dir, manifest)

    # -- steps --------------------------------------------------------------------------------------------

    def _dry_run(self, plan: Plan, run_dir: Path) -> RunSummary:
        preview = RunPlan.of(plan, run_dir, self.settings.sample)
        print(f"dry run: {preview.describe()}", file=self.out)
        print("nothing written, no model loaded", file=self.out)
        return RunSummary(run_dir, jobs=preview.jobs)

    def _run(self, plan: Plan, run_dir: Path, manifest: Manifest) -> RunSummary:
        start = time.perf_counter()
        if self.settings.retry_failed:
            manifest.release_quarantined()
        manifest.reset_running(self.settings.max_interrupts)
        RunDir(run_dir).remove_temp_files()
        argv = redact_overrides(self.argv or [])
        plan_id = manifest.start_plan({"combinations": self.config.identity()}, argv)
        for group in plan.groups.values():
            manifest.add_group(group.key, group.backend, group.model.name, group.recorded_options())
        manifest.add_jobs((job.row(seq) for seq, job in enumerate(plan.jobs())), plan_id)
        jobs = manifest.count_plan(plan_id)
        summary = RunSummary(run_dir)
        summary.redone = manifest.mark_redo(self._broken_outputs(manifest, plan_id, run_dir))
        todo = manifest.count_todo(plan_id)
        summary.jobs = jobs
        summary.quarantined = manifest.quarantined(plan_id)
        summary.already_done = jobs - todo - len(summary.quarantined)
        with _progress(jobs, summary.already_done, todo, self.settings.progress) as bar, self._stop_on_signals():
            for key in sorted(plan.groups):
                if self.stop.is_set():
                    break
                self._run_group(plan.groups[key], manifest, plan_id, run_dir, summary, bar)
        summary.interrupted = self.stop.is_set() and manifest.count_todo(plan_id) > 0
        manifest.finish_plan(plan_id, jobs)
        summary.failures = manifest.failures(plan=plan_id)
        summary.elapsed_s = time.perf_counter() - start
        return summary

    def _broken_outputs(self, manifest: Manifest, plan_id: int, run_dir: Path) -> Iterator[str]:
        """Done jobs with a file missing or (``run.verify=sha256``) not matching its SHA-256, file by file."""
        full = self.settings.verify == "sha256"
        for job_id, output, sha256 in manifest.done_outputs(plan_id):
            if not output or not outputs_intact(run_dir, job_id, output, sha256, full=full):
                log.warning("job %s: output %s is missing or corrupt; it will be redone", job_id, output)
                yield job_id

    def _run_group(
        self,
        group: GroupDescription,
        manifest: Manifest,
        plan_id: int,
        run_dir: Path,
        summary: RunSummary,
        bar: Any,
    ) -> None:
        guard = _GroupGuard(self.settings.max_connection_failures)
        in_flight: set[str] = set()

        def items() -> Iterator[JobSpec]:
            for row in manifest.todo(plan_id, group.key):
                if self.stop.is_set() or guard.stopped:
                    return
                manifest.mark_running(row["job_id"])
                in_flight.add(row["job_id"])
                yield JobSpec.from_row(row)

        try:
            with closing(self._executor.run(group, self._make_worker, items(), self.stop)) as outcomes:
                for job, outcome in outcomes:
                    if isinstance(outcome, JobNotRun):  # cancelled before it started: pending, no attempt
                        manifest.release([job.job_id])
                    elif isinstance(outcome, JobResult):
                        guard.observe(job.job_id, None)
                        self._record_done(job, outcome, run_dir, manifest, summary)
                        bar.update(1)
                    else:
                        self._record_failure(job, outcome, manifest, summary, guard, group)
                        bar.update(1)
                    in_flight.discard(job.job_id)
        except RunError:  # the run folder itself failed (a full disk): nothing more can be recorded anywhere
            with suppress(RunError):  # the job being recorded, and those started meanwhile, back to pending
                manifest.release(sorted(in_flight))
            raise
        except AbstractVisionError as exc:  # the group's worker could not even be built (a package, a bad file)
            guard.stopped = StoppedGroup(group.model.name, group.backend, exc, "its backend could not be built")
        if guard.stopped:
            guard.stopped.pending = manifest.count_todo(plan_id, group.key)
            summary.stopped_groups.append(guard.stopped)

    def _record_failure(
        self,
        job: JobSpec,
        outcome: BaseException,
        manifest: Manifest,
        summary: RunSummary,
        guard: _GroupGuard,
        group: GroupDescription,
    ) -> None:
        if isinstance(outcome, JobFailed):
            reason = guard.observe(job.job_id, outcome)
            if reason or guard.stopped:  # not this job's fault: it stays pending, the group stops
                manifest.mark_pending(job.job_id, outcome.error, outcome.attempts, outcome.duration_s)
                if not guard.stopped:
                    guard.stopped = StoppedGroup(group.model.name, group.backend, outcome.error, reason or "")
                    self._release(guard.streak, outcome.error, manifest, summary)
                return
            manifest.mark_failed(job.job_id, outcome.error, outcome.attempts, outcome.duration_s)
            summary.failed += 1
            _count_advice(summary, outcome.error, 1)
            if not isinstance(outcome.error, BackendConnectionError):  # those: with their group if the breaker trips
                log.warning("job %s failed after %d attempt(s): %s", job.job_id, outcome.attempts, outcome.error)
            return
        manifest.mark_failed(job.job_id, outcome, 1, 0.0)
        summary.failed += 1

    def _record_done(
        self, job: JobSpec, outcome: JobResult, run_dir: Path, manifest: Manifest, summary: RunSummary
    ) -> None:
        """``job``'s files, then its done mark with its main file's SHA-256, in one transaction (a crash between
        the two leaves it ``running``: the next run redoes it)."""
        folder = RunDir(run_dir).outputs
        try:
            inputs = {"inputs": dict(job.inputs)}
            output = write_job_outputs(run_dir, folder, job.job_id, job.identity, outcome.assets, inputs)
        except OSError as exc:  # a full or failing disk: the job is not done, and nothing after it can be
            raise RunWriteError(
                f"job {job.job_id}: its outputs could not be written in {folder} ({exc.strerror or exc}); "
                f"the run stopped. {RunWriteError.advice}"
            ) from None
        timings = dict(outcome.assets[0].metadata.get("timings") or {})
        timings["duration_s"] = outcome.duration_s
        manifest.mark_done(job.job_id, output.output, output.sha256, outcome.attempts, timings)
        summary.done += 1

    def _release(self, job_ids: list[str], error: BaseException, manifest: Manifest, summary: RunSummary) -> None:
        """The jobs of a connection-failure streak (failed with ``error``'s class) were not at fault either:
        back to pending, no longer counted as failed."""
        manifest.release(job_ids)
        summary.failed -= len(job_ids)
        _count_advice(summary, error, -len(job_ids))

    # -- Ctrl-C -----------------------------------------------------------------------------------------

    def _stop_on_signals(self) -> _SignalGuard:
        return _SignalGuard(self.stop, self.out)


class _SignalGuard:
    """First Ctrl-C (or SIGTERM): finish the current job, then stop. A second Ctrl-C aborts at once."""

    def __init__(self, stop: threading.Event, out: TextIO) -> None:
        self.stop, self.out = stop, out
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.stop.set()
        print("\nstopping after the current job (Ctrl-C again to abort now)", file=sys.stderr)


def _count_advice(summary: RunSummary, error: BaseException, count: int) -> None:
    advice = str(getattr(error, "advice", "fix the cause named above, then run the same command"))
    summary.advice[advice] = summary.advice.get(advice, 0) + count
    if not summary.advice[advice]:
        del summary.advice[advice]


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


def _progress(total: int, done: int, todo: int, enabled: bool) -> Any:
    """The whole run's bar: ``done`` of ``total`` already counted, so a resumed run shows where it stands."""
    if not enabled or todo == 0:
        return _NoBar()
    from tqdm.auto import tqdm  # a widget in notebooks, a text bar elsewhere

    return tqdm(total=total, initial=done, unit="job", desc="jobs", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)

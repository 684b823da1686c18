"""One exception hierarchy for the whole package.

Every message says what was wrong and how to fix it. The runner's failure policy reads each error's
``scope`` (and ``advice``) from its class, never the message text::

    AbstractVisionError                      root; carries job_id, backend, model      scope
    ├── InvalidParameterError (ValueError)   bad input, names the field                job
    ├── CapabilityNotSupportedError          task not supported by backend/model       group
    ├── ModelNotFoundError (LookupError)     unknown model / not in local cache        group
    ├── BackendUnavailableError (ImportError) optional dependency missing               group
    ├── ModelLoadError                       weights found but failed to load          group
    ├── GenerationError                      the backend failed while generating       job
    │   ├── ResourceExhaustedError           out of (GPU) memory                       job
    │   └── WorkerCrashedError               its worker died under it repeatedly       job (quarantined)
    ├── JobInterruptedError                  interrupted run.max_interrupts times      job (quarantined)
    ├── BackendConnectionError               could not reach a server                  retry (circuit breaker)
    ├── BackendTimeoutError                  server too slow                           retry
    ├── BackendResponseError                 server answered with an error             429/5xx retry,
    │                                                                                  400/413/422 job, other group
    └── RunError                             run directory / manifest problems         run
        ├── RunLockedError                   another runner holds the run dir          run
        ├── RunWriteError                    the run folder cannot be written (full)   run
        ├── ManifestDamagedError             manifest.sqlite truncated or overwritten  run
        └── PreflightError                   a check before any job failed             run

Scopes: ``retry`` is worth another attempt (one budget per job, shared by every layer); ``job`` is
permanent for that job (recorded, the others go on); ``group`` is permanent for every job of the backend
group (load, auth, missing package, server gone): the group stops at once and its jobs stay pending;
``run`` stops before any job. ``docs/troubleshooting.md`` lists every class with what to do.
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar


class Scope(str, enum.Enum):
    """How far a failure reaches: what the runner does about it."""

    RETRY = "retry"
    JOB = "job"
    GROUP = "group"
    RUN = "run"


class AbstractVisionError(Exception):
    """Root of every error raised by AbstractVision."""

    scope: ClassVar[Scope] = Scope.JOB
    advice: ClassVar[str] = "fix the cause named above, then run the same command"

    def __init__(
        self,
        message: str,
        *,
        job_id: str | None = None,
        backend: str | None = None,
        model: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.job_id = job_id
        self.backend = backend
        self.model = model

    def __str__(self) -> str:
        return self.message

    @property
    def retryable(self) -> bool:
        return self.scope is Scope.RETRY

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by state, not by constructor arguments: errors cross processes (spawned workers, Ray actors)."""
        return _restore, (type(self), self.args, self.__dict__)


def _restore(cls: type[AbstractVisionError], args: tuple[Any, ...], state: dict[str, Any]) -> AbstractVisionError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class InvalidParameterError(AbstractVisionError, ValueError):
    """A request or config value is invalid; ``field`` names it."""

    advice = "fix the value named above, then run the same command"

    def __init__(self, field: str, message: str, **context: Any) -> None:
        super().__init__(f"`{field}`: {message}", **context)
        self.field = field


class CapabilityNotSupportedError(AbstractVisionError):
    """The backend (or model) cannot perform the requested task."""

    scope = Scope.GROUP
    advice = "pick a backend or model that does the task, then run the same command"


class ModelNotFoundError(AbstractVisionError, LookupError):
    """The model is unknown, or not available locally while downloads are disabled."""

    scope = Scope.GROUP
    advice = "put the model's files in place (or fix its source), then run the same command"


class BackendUnavailableError(AbstractVisionError, ImportError):
    """An optional dependency needed by a backend is not installed."""

    scope = Scope.GROUP
    advice = "install the extra named above, then run the same command"


class ModelLoadError(AbstractVisionError):
    """Model files were found but could not be loaded."""

    scope = Scope.GROUP
    advice = "fix or replace the model files, then run the same command"


class GenerationError(AbstractVisionError):
    """The backend failed while generating."""

    advice = "fix the cause named above, then run the same command (failed jobs run again, done ones are kept)"


class ResourceExhaustedError(GenerationError):
    """The device ran out of memory; lower the size, batch or enable offloading."""

    advice = "lower the size or batch, or enable offloading, then run the same command"


class WorkerCrashedError(GenerationError):
    """The job was running each time its worker process died: it is quarantined, not tried again."""


class BackendConnectionError(AbstractVisionError):
    """The server could not be reached. Safe to retry; N in a row stop the group (the server is gone)."""

    scope = Scope.RETRY
    advice = "start the server or fix backend.base_url, then run the same command"


class BackendTimeoutError(AbstractVisionError):
    """The server did not answer in time. Safe to retry."""

    scope = Scope.RETRY
    advice = "run the same command again to retry (raise backend.timeout_s if the server is slow)"


class BackendResponseError(AbstractVisionError):
    """The server answered with an error status: 429 and 5xx are retryable, a refused request (400, 413,
    422) is permanent for its job, and any other status (401, 403, 404: the key or the route) for the group."""

    def __init__(self, message: str, *, status_code: int | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.status_code = status_code

    @property
    def scope(self) -> Scope:  # type: ignore[override]
        code = self.status_code
        if code is None or code == 429 or code >= 500:
            return Scope.RETRY
        return Scope.JOB if code in REFUSED_STATUSES else Scope.GROUP

    @property
    def advice(self) -> str:  # type: ignore[override]
        if self.status_code in (401, 403):
            return "fix backend.api_key (or backend.api_key_env), then run the same command"
        if self.scope is Scope.RETRY:
            return "run the same command again to retry"
        if self.scope is Scope.JOB:
            return "fix the refused request (see the server's message), then run the same command"
        return "fix backend.base_url or the server's routes, then run the same command"


REFUSED_STATUSES = (400, 413, 422)


class JobInterruptedError(AbstractVisionError):
    """A job was found ``running`` by ``run.max_interrupts`` runners in a row: it may crash the runner."""

    advice = (
        "it may be crashing the runner (out of memory, a native crash): lower its size or steps, or run it alone; "
        "run.retry_failed=true runs it again"
    )


class RunError(AbstractVisionError):
    """The run directory or its manifest cannot be used."""

    scope = Scope.RUN


class RunLockedError(RunError):
    """Another runner is working on the same run directory."""


class RunWriteError(RunError):
    """The run folder could not be written (disk full, read-only, I/O error): the run stops where it is."""

    advice = "free space on the run folder's disk (or make it writable), then run the same command: done jobs are kept"


class ManifestDamagedError(RunError):
    """A run's ``manifest.sqlite`` is truncated or overwritten: refused, never recreated over the run."""

    advice = (
        "move the run folder aside (keep it) and run the same command to start a new manifest; "
        "`sqlite3 OLD/manifest.sqlite .recover` may save what the old one held"
    )


class PreflightError(RunError):
    """A check made once before any job (extras, model files, names, output folder, server) failed."""


def scope_of(error: BaseException) -> Scope:
    """How far ``error`` reaches (reads the class, not the message); an unexpected exception fails its job."""
    return error.scope if isinstance(error, AbstractVisionError) else Scope.JOB


def is_retryable(error: BaseException) -> bool:
    """Whether ``error`` is worth another attempt."""
    return scope_of(error) is Scope.RETRY

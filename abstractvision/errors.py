"""One exception hierarchy for the whole package.

Every message says what was wrong and how to fix it. The runner's retry policy reads
``retryable`` from the class, never the message text::

    AbstractVisionError                      root; carries job_id, backend, model
    ├── InvalidParameterError (ValueError)   bad input, names the field          permanent
    ├── CapabilityNotSupportedError          task not supported by backend/model permanent
    ├── ModelNotFoundError (LookupError)     unknown model / not in local cache  permanent
    ├── BackendUnavailableError (ImportError) optional dependency missing         permanent
    ├── ModelLoadError                       weights found but failed to load    permanent
    ├── GenerationError                      the backend failed while generating permanent
    │   ├── ResourceExhaustedError           out of (GPU) memory                 permanent
    │   └── WorkerCrashedError               its worker died under it repeatedly permanent (quarantined)
    ├── BackendConnectionError               could not reach a server            retryable
    ├── BackendTimeoutError                  server too slow                     retryable
    ├── BackendResponseError                 server answered with an error       429/5xx retryable
    └── RunError                             run directory / manifest problems   permanent
        └── RunLockedError                   another runner holds the run dir    permanent
"""

from __future__ import annotations

from typing import Any, ClassVar


class AbstractVisionError(Exception):
    """Root of every error raised by AbstractVision."""

    retryable: ClassVar[bool] = False

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

    def __init__(self, field: str, message: str, **context: Any) -> None:
        super().__init__(f"`{field}`: {message}", **context)
        self.field = field


class CapabilityNotSupportedError(AbstractVisionError):
    """The backend (or model) cannot perform the requested task."""


class ModelNotFoundError(AbstractVisionError, LookupError):
    """The model is unknown, or not available locally while downloads are disabled."""


class BackendUnavailableError(AbstractVisionError, ImportError):
    """An optional dependency needed by a backend is not installed."""


class ModelLoadError(AbstractVisionError):
    """Model files were found but could not be loaded."""


class GenerationError(AbstractVisionError):
    """The backend failed while generating."""


class ResourceExhaustedError(GenerationError):
    """The device ran out of memory; lower the size, batch or enable offloading."""


class WorkerCrashedError(GenerationError):
    """The job was running each time its worker process died: it is quarantined, not tried again."""


class BackendConnectionError(AbstractVisionError):
    """The server could not be reached. Safe to retry."""

    retryable = True


class BackendTimeoutError(AbstractVisionError):
    """The server did not answer in time. Safe to retry."""

    retryable = True


class BackendResponseError(AbstractVisionError):
    """The server answered with an error status. Retryable for 429 and 5xx."""

    def __init__(self, message: str, *, status_code: int | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.status_code = status_code

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.status_code is not None and (self.status_code == 429 or self.status_code >= 500)


class RunError(AbstractVisionError):
    """The run directory or its manifest cannot be used."""


class RunLockedError(RunError):
    """Another runner is working on the same run directory."""


def is_retryable(error: BaseException) -> bool:
    """Whether ``error`` is worth another attempt (reads the class, not the message)."""
    return bool(getattr(error, "retryable", False)) if isinstance(error, AbstractVisionError) else False

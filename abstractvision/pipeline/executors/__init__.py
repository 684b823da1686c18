"""Executors decide where jobs run; the runner stays the only manifest writer whichever is used.

``open_executor(settings)`` gives what ``run.executor`` names, ready to run groups: ``run(group, make_worker,
items, stop)`` builds the group's worker(s) from its description and yields ``(job, outcome)`` in the
driver's thread, where ``outcome`` is a ``JobResult``, a ``JobFailed``, a ``JobNotRun`` (given back unrun after
``stop``) or another exception.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .local import LocalWorkers, ThreadExecutor

if TYPE_CHECKING:
    from ..config import RunSettings
    from .ray import RayWorkers

__all__ = ["LocalWorkers", "ThreadExecutor", "open_executor"]


def open_executor(settings: RunSettings) -> LocalWorkers | RayWorkers:
    """``run.executor``'s executor. For Ray this connects (or starts a local Ray) and checks the cluster's
    resources against the settings, so that bad settings fail before the run folder is touched."""
    if settings.executor == "ray":
        from .ray import RayWorkers

        return RayWorkers.connect(settings)
    return LocalWorkers(settings.concurrency, settings.batch_size)

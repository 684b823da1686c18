"""Executors decide where jobs run; the runner stays the only manifest writer whichever is used."""

from .local import LocalExecutor, ThreadExecutor, make_executor

__all__ = ["LocalExecutor", "ThreadExecutor", "make_executor"]

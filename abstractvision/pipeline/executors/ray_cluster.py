"""Joining a Ray cluster (or starting a local one) and sizing the workers to it, before any actor starts.

Every way this can go wrong is bad input and fails within seconds, naming the setting: Ray not installed, an
address that cannot be reached, more GPUs or CPUs per worker than any node has, more workers than fit.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import BackendUnavailableError, InvalidParameterError

if TYPE_CHECKING:
    from ..config import RunSettings

_CONNECT_TIMEOUT_S = 3.0
_DEFAULT_PORT = 6379


@dataclass(frozen=True)
class ClusterPlan:
    """How many actors, with which resources, on which cluster (named in errors)."""

    where: str
    workers: int
    cpus: float
    gpus: float


def connect(address: str | None) -> str:
    """Join the cluster at ``address`` (``auto``: the one ``ray start`` left on this machine, or ``RAY_ADDRESS``)
    or, for ``None``, start a local Ray. Returns how errors name it. An unreachable address fails within
    seconds, naming it, where Ray itself would retry for a minute."""
    try:
        import ray
    except ImportError as exc:
        raise BackendUnavailableError(
            "`run.executor=ray` needs Ray, which is not installed: pip install 'abstractvision[ray]'"
        ) from exc
    if ray.is_initialized():
        ray.shutdown()  # a previous run's session: join what this run names
    if address is None:  # "local": a new Ray, never a cluster that a stale `ray start` record points at
        options: dict[str, Any] = {"address": "local", "_node_ip_address": "127.0.0.1"}
        where = "the local Ray on 127.0.0.1"
    else:
        _check_reachable(address)
        options, where = {"address": address}, f"the Ray cluster at {address!r}"
    try:
        ray.init(**options, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    except Exception as exc:
        if address is None:  # e.g. Ray's bare Exception when its raylet is not up within its fixed 30 s
            raise BackendUnavailableError(
                f"could not start a local Ray: {str(exc).rstrip('.')}; on a busy machine, start Ray once with "
                "`ray start --head` and join it with run.ray_address=auto"
            ) from exc
        if not isinstance(exc, (ConnectionError, RuntimeError, ValueError)):
            raise
        hint = "start one with `ray start --head`" if address == "auto" else "check the address"
        raise InvalidParameterError(
            "run.ray_address", f"cannot join {where}: {exc}; {hint}, or leave it unset to start a local Ray"
        ) from exc
    return where


def _check_reachable(address: str) -> None:
    """A TCP connection to ``address`` (``host:port``, ``ray://host:port``, or what ``auto`` stands for)."""
    target = _auto_address() if address == "auto" else address.removeprefix("ray://")
    if target is None:
        return  # nothing recorded: ray.init says so at once
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        host, port = target, str(_DEFAULT_PORT)
    try:
        socket.create_connection((host, int(port)), timeout=_CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        shown = (
            f"'auto' ({target}, the last `ray start` on this machine or RAY_ADDRESS)"
            if address == "auto"
            else repr(address)
        )
        raise InvalidParameterError(
            "run.ray_address",
            f"cannot reach a Ray cluster at {shown} ({exc}); check that `ray start --head` runs there and "
            "the port is open, or leave it unset to start a local Ray",
        ) from exc


def _auto_address() -> str | None:
    """The ``host:port`` that ``auto`` stands for, or ``None`` if none is recorded."""
    from ray._private.services import get_ray_address_from_environment  # what ray.init itself reads

    try:
        found = get_ray_address_from_environment("auto", None)
    except ConnectionError:  # none, or several: ray.init says which
        return None
    return found if found and found != "auto" else None


def fit_workers(settings: RunSettings, where: str) -> ClusterPlan:
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
    return ClusterPlan(where, workers, cpus, gpus)


def _fits_on(node: dict[str, float], cpus: float, gpus: float) -> int:
    counts = [int(node.get(key, 0.0) // wanted) for key, wanted in (("CPU", cpus), ("GPU", gpus)) if wanted > 0]
    return min(counts) if counts else 1

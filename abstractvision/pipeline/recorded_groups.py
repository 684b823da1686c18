"""Backend groups rebuilt from what a run's manifest recorded, to run its jobs again (``verify``).

The ``groups`` table holds each group's backend, model name and options, with secrets redacted; the
plans hold the model spec whole. A rebuilt group must hash to the recorded group key, which proves it
is the one that made the jobs. Redacted options (an API key, the name of its environment variable)
cannot come from the manifest: the caller passes them. The caller may also change placement options
(device, threads, offload: they never change a job id) to re-run the jobs elsewhere, for instance to see
whether another thread count moves pixels; the key is checked with the options as recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..backends.factory import backend_entry
from ..backends.options import PLACEMENT, names_with_role
from ..errors import InvalidParameterError, RunError
from ..registry import ModelSpec
from .config import REDACTED
from .manifest import Manifest
from .plan import describe_group, group_key
from .worker import GroupDescription


def recorded_group(manifest: Manifest, key: str, secrets: Mapping[str, Any] | None = None) -> GroupDescription:
    """The group ``key`` of ``manifest``: ``secrets`` fill its redacted options, and change placement ones."""
    recorded = manifest.groups().get(key)
    if recorded is None:
        raise RunError(f"{manifest.path} records no backend group {key!r}; the manifest is incomplete")
    options, secrets = dict(recorded["options"]), dict(secrets or {})
    movable = names_with_role(backend_entry(recorded["backend"]).classes()[0], PLACEMENT)
    moved = {name: value for name, value in secrets.items() if options.get(name) != REDACTED}
    for name in moved:
        if name not in movable:
            raise InvalidParameterError(
                "--backend-option",
                f"{name!r} is not a redacted or placement option of the run's {recorded['backend']} backend; only "
                f"options that never change the output can differ when re-running: {list(movable)}",
            )
    missing = [name for name, value in options.items() if value == REDACTED and name not in secrets]
    if missing:
        raise InvalidParameterError(
            "--backend-option",
            f"the run's {recorded['backend']} backend option(s) {missing} were redacted from the manifest (secrets "
            f"are never stored), so its backend cannot be rebuilt from the run alone; pass them again, e.g. "
            f"--backend-option {missing[0]}=...",
        )
    options.update({name: str(value) for name, value in secrets.items() if options.get(name) == REDACTED})
    for config in manifest.plan_configs():
        for combination in config.get("combinations", []):
            model = combination.get("model")
            if not isinstance(model, dict) or model.get("name") != recorded["model"]:
                continue
            spec = ModelSpec.from_mapping(model, origin=f"the model recorded in {manifest.path}")
            if group_key(recorded["backend"], spec, options) == key:
                return describe_group(key, recorded["backend"], spec, {**options, **moved})
    raise RunError(
        f"the plans in {manifest.path} do not describe the model of group {key!r} ({recorded['model']}) as it was "
        "when its jobs were made, so they cannot be re-run exactly; re-run them with `abstractvision run`"
    )

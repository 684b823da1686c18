"""Scheduler names for the diffusers backend: short names (as the SD web UIs call them) or class names.

A name maps to a diffusers scheduler class plus config overrides. A scheduler is always rebuilt from the
model's own scheduler config (``from_config``), so a sweep over schedulers needs no reload and a result
never depends on which scheduler ran before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import InvalidParameterError

# short name -> (diffusers class name, config overrides)
SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "ddim": ("DDIMScheduler", {}),
    "ddpm": ("DDPMScheduler", {}),
    "pndm": ("PNDMScheduler", {}),
    "lms": ("LMSDiscreteScheduler", {}),
    "lms_karras": ("LMSDiscreteScheduler", {"use_karras_sigmas": True}),
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_karras": ("EulerDiscreteScheduler", {"use_karras_sigmas": True}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "heun": ("HeunDiscreteScheduler", {}),
    "dpm2": ("KDPM2DiscreteScheduler", {}),
    "dpm2_a": ("KDPM2AncestralDiscreteScheduler", {}),
    "dpm++": ("DPMSolverMultistepScheduler", {}),
    "dpm++_karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "dpm++_sde": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++"}),
    "dpm++_sde_karras": (
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True},
    ),
    "dpm++_2s": ("DPMSolverSinglestepScheduler", {}),
    "deis": ("DEISMultistepScheduler", {}),
    "unipc": ("UniPCMultistepScheduler", {}),
    "lcm": ("LCMScheduler", {}),
    "tcd": ("TCDScheduler", {}),
}


def check_scheduler_name(name: Any, field: str) -> None:
    """Raise ``InvalidParameterError`` unless ``name`` is a short name or looks like a diffusers class name.

    Class names are checked against diffusers itself when the scheduler is built (diffusers is not
    imported here, to keep config validation light); a dotted path is never one, so it fails here.
    """
    if name is None or (isinstance(name, str) and (name in SCHEDULERS or _class_like(name))):
        return
    raise _unknown(name, field)


def _class_like(name: str) -> bool:
    return name.isidentifier() and name.endswith("Scheduler")


def scheduler_class(name: str, field: str) -> tuple[type, dict[str, Any]]:
    """The diffusers class and config overrides for scheduler ``name``."""
    import diffusers

    class_name, overrides = SCHEDULERS.get(name, (name, {}))
    cls = getattr(diffusers, class_name, None)  # diffusers' own namespace only: nothing else is imported
    if not isinstance(cls, type) or not _class_like(class_name):
        raise _unknown(name, field)
    return cls, overrides


def build_scheduler(name: str, base_config: Mapping[str, Any], field: str) -> Any:
    """A fresh scheduler ``name`` made from the model's scheduler config ``base_config``."""
    cls, overrides = scheduler_class(name, field)
    return cls.from_config(base_config, **overrides)


def _unknown(name: Any, field: str) -> InvalidParameterError:
    return InvalidParameterError(
        field,
        f"unknown scheduler {name!r}; valid names are {sorted(SCHEDULERS)} "
        "or a diffusers scheduler class name such as 'EulerDiscreteScheduler'",
    )

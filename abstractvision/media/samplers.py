"""Sampler names as the SD web UIs write them in ``parameters`` (``Euler a``, ``DPM++ 2M Karras``), so that
tools which read those files (PNG Info, galleries, prompt extractors) recognise them.

A name is a diffusers short name (``euler_a``, ``dpm++_karras``), a diffusers class name
(``EulerAncestralDiscreteScheduler``) or a stable-diffusion.cpp ``sampler/schedule`` pair
(``dpm++2m/karras``); one the web UIs have no name for is written as it is.
"""

from __future__ import annotations

WEB_UI_NAMES = {
    "euler": "Euler",
    "euler_a": "Euler a",
    "heun": "Heun",
    "dpm2": "DPM2",
    "dpm2_a": "DPM2 a",
    "dpm++": "DPM++ 2M",
    "dpm++2m": "DPM++ 2M",
    "dpm++_sde": "DPM++ 2M SDE",
    "dpm++_2s": "DPM++ 2S",
    "dpm++2s_a": "DPM++ 2S a",
    "lms": "LMS",
    "ddim": "DDIM",
    "ddpm": "DDPM",
    "pndm": "PLMS",
    "ipndm": "iPNDM",
    "deis": "DEIS",
    "unipc": "UniPC",
    "lcm": "LCM",
    "tcd": "TCD",
    "DDIMScheduler": "DDIM",
    "DDPMScheduler": "DDPM",
    "PNDMScheduler": "PLMS",
    "LMSDiscreteScheduler": "LMS",
    "EulerDiscreteScheduler": "Euler",
    "EulerAncestralDiscreteScheduler": "Euler a",
    "HeunDiscreteScheduler": "Heun",
    "KDPM2DiscreteScheduler": "DPM2",
    "KDPM2AncestralDiscreteScheduler": "DPM2 a",
    "DPMSolverMultistepScheduler": "DPM++ 2M",
    "DPMSolverSinglestepScheduler": "DPM++ 2S",
    "DEISMultistepScheduler": "DEIS",
    "UniPCMultistepScheduler": "UniPC",
    "LCMScheduler": "LCM",
    "TCDScheduler": "TCD",
}
_KARRAS = ("_karras", "/karras")


def web_ui_sampler(name: str) -> str:
    """``name`` as the web UIs call it: ``euler_a`` -> ``Euler a``, ``dpm++_karras`` -> ``DPM++ 2M Karras``."""
    base, karras = name, False
    for suffix in _KARRAS:
        if name.endswith(suffix):
            base, karras = name[: -len(suffix)], True
    base = base.split("/", 1)[0] if "/" in base else base
    if base not in WEB_UI_NAMES:
        return name
    return WEB_UI_NAMES[base] + (" Karras" if karras else "")

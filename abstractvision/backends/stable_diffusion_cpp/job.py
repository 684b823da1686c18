"""What both stable-diffusion.cpp runners (sd-cli and the Python binding) receive: plain resolved values.

``ContextOptions`` are fixed for a loaded model; ``ImageJob`` is one call (a batch of ``batch_count``
images with seeds ``seed``, ``seed + 1``, ...). A runner turns them into flags or keyword arguments.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from .files import ModelFiles

#: sd.cpp's sampling methods and sigma schedulers (identical in sd-cli 0.4.7 and the binding).
SAMPLERS = (
    "euler",
    "euler_a",
    "heun",
    "dpm2",
    "dpm++2s_a",
    "dpm++2m",
    "dpm++2mv2",
    "ipndm",
    "ipndm_v",
    "lcm",
    "ddim_trailing",
    "tcd",
    "res_multistep",
    "res_2s",
    "er_sde",
)
SCHEDULERS = (
    "discrete",
    "karras",
    "exponential",
    "ays",
    "gits",
    "smoothstep",
    "sgm_uniform",
    "simple",
    "kl_optimal",
    "lcm",
    "bong_tangent",
)
#: lower-case option value -> ggml type name (what sd-cli's ``--type`` expects)
WEIGHT_TYPES = {
    name.lower(): name
    for name in ("f32", "f16", "bf16", "q8_0", "q5_0", "q5_1", "q4_0", "q4_1", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K")
}
LOG_TAIL_LINES = 20
_LOADED = re.compile(r"loading (\w+) from '([^']+)'")


@dataclass(frozen=True)
class ContextOptions:
    """How to load the model (sd.cpp's context parameters)."""

    files: ModelFiles
    threads: int
    weight_type: str | None = None
    lora_dir: str | None = None
    offload_to_cpu: bool = False
    flash_attention: bool = False


@dataclass(frozen=True)
class ImageJob:
    """One generation call. ``init_image``/``mask`` are PIL images already at the output size.

    ``None`` leaves a value to sd.cpp's own default; the runner reports it through ``Runner.defaults()``.
    """

    prompt: str
    negative_prompt: str
    width: int | None
    height: int | None
    steps: int | None
    cfg_scale: float | None
    seed: int
    batch_count: int = 1
    sampler: str | None = None
    scheduler: str | None = None
    strength: float | None = None
    init_image: Any = None
    mask: Any = None
    vae_tiling: bool = False
    flow_shift: float | None = None


class Runner(Protocol):
    """A loaded (or loadable) sd.cpp engine."""

    mode: str

    def load(self) -> float:
        """Load now if needed; return the seconds it took (0 when already loaded)."""

    def generate(self, job: ImageJob, progress: Any = None) -> list[Any]:
        """The job's images (PIL, RGB), in seed order."""

    def versions(self) -> dict[str, str]: ...

    def loaded_files(self) -> dict[str, str]:
        """What the engine reported loading for the last model load (role -> path)."""

    def defaults(self) -> dict[str, Any]:
        """What sd.cpp uses for ``steps``, ``guidance_scale`` and ``strength`` when they are unset."""

    def close(self) -> None: ...


class LogTail:
    """The last lines of a library's log output, to quote in error messages, and the files the engine says
    it loaded (``loading vae from '...'``): its own record, kept in the metadata beside ours."""

    def __init__(self, size: int = LOG_TAIL_LINES) -> None:
        self._lines: deque[str] = deque(maxlen=size)
        self.loaded: dict[str, str] = {}

    def add(self, text: str) -> None:
        for line in text.splitlines():
            if line.strip():
                self._lines.append(line.rstrip())
                match = _LOADED.search(line)
                if match:
                    self.loaded[match.group(1)] = match.group(2)

    def extend(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.add(line)

    def clear(self) -> None:
        self._lines.clear()
        self.loaded = {}

    def text(self) -> str:
        return "\n".join(self._lines) or "(no output)"

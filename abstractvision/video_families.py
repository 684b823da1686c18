"""The video model families: which diffusers pipeline each runs per task, and the rules of its inputs.

``ModelSpec.family`` picks the row. The rules are pure data, so the planner's ``check_request`` applies
them before anything loads, and the diffusers backend reads the pipeline class names from here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import InvalidParameterError
from .tasks import IMAGE_TO_VIDEO, TEXT_TO_VIDEO


@dataclass(frozen=True)
class VideoFamily:
    """One family of video models.

    Args:
        name (`str`): the ``family:`` of a model config.
        pipelines (`Mapping[str, str]`): task -> diffusers pipeline class name.
        frame_step (`int`, defaults to 1): ``num_frames`` must be ``frame_step * k + 1`` (the VAE's temporal
            compression); 1 takes any count.
        size_multiple (`int`, defaults to 8): width and height must be multiples of it.
        max_frames (`int`, *optional*): the most frames the model's motion layers take.
        fps_argument (`str`, *optional*): the pipeline argument that conditions on the frame rate.
        takes_prompt (`bool`, defaults to True): False for image-only models (SVD): a prompt is refused.
        guidance_argument (`str`, defaults to ``"guidance_scale"``): where ``guidance_scale`` goes.
    """

    name: str
    pipelines: Mapping[str, str]
    frame_step: int = 1
    size_multiple: int = 8
    max_frames: int | None = None
    fps_argument: str | None = None
    takes_prompt: bool = True
    guidance_argument: str = "guidance_scale"
    tasks: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.pipelines))


VIDEO_FAMILIES: dict[str, VideoFamily] = {
    f.name: f
    for f in (
        VideoFamily("wan", {TEXT_TO_VIDEO: "WanPipeline", IMAGE_TO_VIDEO: "WanImageToVideoPipeline"}, 4, 16),
        VideoFamily(
            "ltx-video",
            {TEXT_TO_VIDEO: "LTXPipeline", IMAGE_TO_VIDEO: "LTXImageToVideoPipeline"},
            8,
            32,
            fps_argument="frame_rate",
        ),
        VideoFamily(
            "cogvideox", {TEXT_TO_VIDEO: "CogVideoXPipeline", IMAGE_TO_VIDEO: "CogVideoXImageToVideoPipeline"}, 4, 16
        ),
        VideoFamily("animatediff", {TEXT_TO_VIDEO: "AnimateDiffPipeline"}, 1, 8, max_frames=32),
        VideoFamily(
            "svd",
            {IMAGE_TO_VIDEO: "StableVideoDiffusionPipeline"},
            1,
            8,
            fps_argument="fps",
            takes_prompt=False,
            guidance_argument="max_guidance_scale",
        ),
    )
}


def video_family(name: str) -> VideoFamily | None:
    return VIDEO_FAMILIES.get(name)


def check_video_request(family: VideoFamily, model: str, num_frames: int | None, prompt: str | None) -> None:
    """Raise ``InvalidParameterError`` when ``family`` cannot take this frame count or prompt."""
    if num_frames is not None and family.frame_step > 1 and (num_frames - 1) % family.frame_step:
        k = (num_frames - 1) // family.frame_step
        lower, upper = family.frame_step * k + 1, family.frame_step * (k + 1) + 1
        suggestion = f"{lower} or {upper}" if k else str(upper)
        raise InvalidParameterError(
            "num_frames",
            f"model {model!r} ({family.name}) takes {family.frame_step}k+1 frames, got {num_frames}; use {suggestion}",
        )
    if num_frames is not None and family.max_frames is not None and num_frames > family.max_frames:
        raise InvalidParameterError(
            "num_frames", f"model {model!r} ({family.name}) takes at most {family.max_frames} frames, got {num_frames}"
        )
    if prompt is not None and not family.takes_prompt:
        raise InvalidParameterError(
            "prompt", f"model {model!r} ({family.name}) animates the image alone and takes no prompt; unset prompt"
        )

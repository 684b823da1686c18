"""Server profiles: how each family of OpenAI-shaped servers takes the parameters OpenAI's API lacks.

The OpenAI images API has no seed, steps, guidance or negative prompt. Servers that accept them
disagree on where: top-level JSON fields (under different names), the prompt text (LocalAI's
``positive|negative``), or a tag inside the prompt (sd-server's ``<sd_cpp_extra_args>``). A profile
maps AbstractVision's parameter names to one server's convention and reports what it could not send.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# AbstractVision parameter names a profile may know how to send, besides prompt and size.
EXTENSION_PARAMS = ("negative_prompt", "seed", "steps", "guidance_scale", "strength", "num_frames", "fps")

SDCPP_TAG = "<sd_cpp_extra_args>{}</sd_cpp_extra_args>"
SDCPP_KEYS = {
    "seed": ("seed",),
    "negative_prompt": ("negative_prompt",),
    "strength": ("strength",),
    "steps": ("sample_params", "sample_steps"),
    "guidance_scale": ("sample_params", "guidance", "txt_cfg"),
}


@dataclass(frozen=True)
class ServerProfile:
    """One server family's conventions.

    Attributes:
        name: the value of ``backend.profile``.
        seed_honoured: whether a seed sent this way is known to be used by the server.
        body_names: AbstractVision name -> top-level request field, for the extensions it accepts.
        sends_model / sends_response_format: whether ``model`` / ``response_format`` are sent.
        negative_in_prompt: LocalAI's ``prompt|negative_prompt`` convention.
        extras_in_prompt_tag: sd-server's ``<sd_cpp_extra_args>{json}</sd_cpp_extra_args>``.
        mask_alpha: OpenAI's mask convention (transparent = edit) rather than white = edit.
        edit_image_field: the multipart field name of the input image.
        fixed_fields: always sent (sd-server's ``output_format``).
        url_responses: whether the server can answer with ``url``.
        sends_video_format: whether a video's ``output_format`` (mp4, webm, gif, webp) is sent, for servers
            that encode what they are asked (``abstractvision serve``).
    """

    name: str
    seed_honoured: bool
    body_names: Mapping[str, str] = field(default_factory=dict)
    sends_model: bool = True
    sends_response_format: bool = True
    negative_in_prompt: bool = False
    extras_in_prompt_tag: bool = False
    mask_alpha: bool = True
    edit_image_field: str = "image"
    fixed_fields: Mapping[str, Any] = field(default_factory=dict)
    url_responses: bool = True
    sends_video_format: bool = False

    def map_params(self, prompt: str | None, params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The request fields (prompt included) for ``params``, and the names it could not send.

        ``params`` holds extension parameters (``EXTENSION_PARAMS``) set by the caller; ``None``
        values are left out.
        """
        wanted = {k: v for k, v in params.items() if v is not None}
        fields: dict[str, Any] = dict(self.fixed_fields)
        tag: dict[str, Any] = {}
        unsent: list[str] = []
        for name, value in wanted.items():
            if name in self.body_names:
                fields[self.body_names[name]] = value
            elif self.extras_in_prompt_tag and name in SDCPP_KEYS:
                _set_path(tag, SDCPP_KEYS[name], value)
            elif self.negative_in_prompt and name == "negative_prompt":
                prompt = f"{prompt}|{value}"
            else:
                unsent.append(name)
        if tag:
            prompt = f"{prompt or ''}{SDCPP_TAG.format(json.dumps(tag, sort_keys=True))}"
        if prompt is not None:
            fields["prompt"] = prompt
        return fields, sorted(unsent)


def _set_path(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value


_SAME_NAMES = {name: name for name in EXTENSION_PARAMS}

PROFILES: dict[str, ServerProfile] = {
    profile.name: profile
    for profile in (
        ServerProfile("openai", seed_honoured=False),
        ServerProfile("generic", seed_honoured=True, body_names=_SAME_NAMES, sends_video_format=True),
        ServerProfile("vllm-omni", seed_honoured=True, body_names={**_SAME_NAMES, "steps": "num_inference_steps"}),
        ServerProfile(
            "sdcpp-server",
            seed_honoured=True,
            sends_model=False,
            sends_response_format=False,
            extras_in_prompt_tag=True,
            mask_alpha=False,
            edit_image_field="image[]",
            fixed_fields={"output_format": "png"},
            url_responses=False,
        ),
        # LocalAI takes `seed` and `step`; whether every LocalAI backend uses the seed is not documented.
        ServerProfile(
            "localai", seed_honoured=False, body_names={"seed": "seed", "steps": "step"}, negative_in_prompt=True
        ),
    )
}

"""Multi-view through diffusers: one prompt per view, one shared seed, the same start.

Each view's prompt is the model's ``view_prompt`` (default ``views.PROMPT_TEMPLATE``: the general strategy)
filled with the request's prompt and the view's phrase and angles; a model trained for views sets the
phrasing it was trained on (the dedicated-model strategy, configured in its model YAML, which may also
name a dedicated edit pipeline class, ``edit_pipeline``, that takes the reference image as its input);
every view uses the same seed, and with a reference image every view starts from it (image to image at
``strength``), else from the same noise (text to image). This works with any image model, and the views
share the subject only as far as the model follows the words: it is no 3D-consistent renderer.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING

from ...media.png import PARAMETERS_KEY, RECORD_KEY, a1111_parameters, deterministic_record
from ...media.png_chunks import set_png_text
from ...tasks import MULTI_VIEW_IMAGE
from ...types import GeneratedAsset, ImageEditRequest, ImageGenerationRequest, MultiAngleRequest, ProgressCallback
from ...views import PROMPT_TEMPLATE, parse_views

if TYPE_CHECKING:
    from .backend import HuggingFaceDiffusersVisionBackend

#: the general strategy, and the one of a model with a dedicated edit pipeline (``ModelSpec.edit_pipeline``)
STRATEGY = "prompt_templates"
EDIT_STRATEGY = "edit_pipeline"
_SEED_BOUND = 2**32


def run_views(
    backend: HuggingFaceDiffusersVisionBackend, request: MultiAngleRequest, progress: ProgressCallback | None
) -> list[GeneratedAsset]:
    """One labelled image per view of ``request``."""
    seed = secrets.randbelow(_SEED_BOUND) if request.seed is None else request.seed
    common = {
        "negative_prompt": request.negative_prompt,
        "width": request.width,
        "height": request.height,
        "seed": seed,
        "steps": request.steps,
        "guidance_scale": request.guidance_scale,
        "extra": request.extra,
    }
    assets = []
    for view in parse_views(request.angles):
        prompt = view.prompt(request.prompt, backend.model_spec.view_prompt)
        if request.reference_image is None:
            asset = backend.generate_image(ImageGenerationRequest(prompt, **common), progress=progress)
        else:
            edit = ImageEditRequest(prompt, request.reference_image, strength=request.strength, **common)
            asset = backend.edit_image(edit, progress=progress)
        metadata = {
            **asset.metadata,
            "task": MULTI_VIEW_IMAGE,
            "strategy": EDIT_STRATEGY if backend.model_spec.edit_pipeline else STRATEGY,
            "view_prompt": backend.model_spec.view_prompt or PROMPT_TEMPLATE,
            "view": {**view.record(), "prompt": prompt},
        }
        texts = {
            PARAMETERS_KEY: a1111_parameters(metadata),
            RECORD_KEY: json.dumps(deterministic_record(metadata), sort_keys=True, default=str),
        }
        assets.append(GeneratedAsset("image", set_png_text(asset.data, texts), asset.mime_type, metadata))
    return assets

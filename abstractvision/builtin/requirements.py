"""The one error for a builder whose libraries are missing."""

from __future__ import annotations

from ..errors import BackendUnavailableError


def libraries_missing(exc: ImportError) -> BackendUnavailableError:
    """Building a tiny model needs torch, diffusers and transformers: name the missing one and the extra."""
    return BackendUnavailableError(
        f"building the tiny models needs torch, diffusers and transformers ({exc.name} is missing); "
        "install them with: pip install 'abstractvision[diffusers]'"
    )

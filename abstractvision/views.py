"""Camera views of a multi-view request: named views and explicit angles, checked and labelled.

A view is a name (``front``, ``three_quarter``, ``side``, ``back``, ...) or explicit camera angles in
degrees, ``{azimuth: 30, elevation: 10}``: azimuth in [0, 360) around the subject (0 = front, 90 = its
right side), elevation in [-90, 90] (positive = from above). Each view gets a file-name-safe label and
the phrase a prompt template puts into the view's prompt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import InvalidParameterError

#: name -> (azimuth, elevation) in degrees
NAMED_VIEWS: dict[str, tuple[float, float]] = {
    "front": (0.0, 0.0),
    "three_quarter": (45.0, 0.0),
    "side": (90.0, 0.0),
    "right": (90.0, 0.0),
    "three_quarter_back": (135.0, 0.0),
    "back": (180.0, 0.0),
    "left": (270.0, 0.0),
    "top": (0.0, 90.0),
    "above": (0.0, 45.0),
    "below": (0.0, -45.0),
}
#: The prompt template of the general strategy: the request's prompt, then the view's phrase. A model's
#: ``view_prompt`` replaces it; both may use {prompt}, {view}, {label}, {azimuth} and {elevation}.
PROMPT_TEMPLATE = "{prompt}, {view}"


@dataclass(frozen=True)
class View:
    label: str
    azimuth: float
    elevation: float

    def phrase(self) -> str:
        """How a prompt names this view: the named view's words, else the nearest one's plus the angles."""
        name = self.label if self.label in NAMED_VIEWS else _nearest_name(self.azimuth, self.elevation)
        words = f"{name.replace('_', ' ')} view"
        if self.label in NAMED_VIEWS:
            return words
        return f"{words}, seen from {self.azimuth:g} degrees azimuth and {self.elevation:g} degrees elevation"

    def prompt(self, prompt: str, template: str = "") -> str:
        """The prompt of this view: ``template`` (default ``PROMPT_TEMPLATE``) filled in."""
        values = {"view": self.phrase(), "label": self.label, "azimuth": self.azimuth, "elevation": self.elevation}
        return (template or PROMPT_TEMPLATE).format(prompt=prompt, **values)

    def record(self) -> dict[str, Any]:
        return {"label": self.label, "azimuth": self.azimuth, "elevation": self.elevation}


def parse_views(items: Sequence[Any], field: str = "angles") -> list[View]:
    """The views of ``items`` (names or ``{azimuth, elevation}`` mappings); bad ones raise naming ``field``."""
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence) or not items:
        raise InvalidParameterError(field, f"must be a non-empty list of view names or angles, got {items!r}")
    views = [_parse_view(item, f"{field}[{i}]") for i, item in enumerate(items)]
    labels = [v.label for v in views]
    duplicate = next((label for label in labels if labels.count(label) > 1), None)
    if duplicate is not None:
        raise InvalidParameterError(field, f"view {duplicate!r} is asked for twice; each view must differ")
    return views


def check_view_prompt(template: str, field: str = "model.view_prompt") -> None:
    """Refuse a view prompt template with a placeholder other than those ``View.prompt`` fills."""
    try:
        View("front", 0.0, 0.0).prompt("x", template)
    except (KeyError, IndexError, ValueError) as exc:
        raise InvalidParameterError(
            field,
            f"{template!r} is not a valid template ({type(exc).__name__}: {exc}); "
            "use {prompt}, {view}, {label}, {azimuth} and {elevation}",
        ) from None


def _parse_view(item: Any, field: str) -> View:
    if isinstance(item, str):
        if item not in NAMED_VIEWS:
            raise InvalidParameterError(
                field, f"unknown view {item!r}; valid views are {list(NAMED_VIEWS)}, or {{azimuth, elevation}}"
            )
        return View(item, *NAMED_VIEWS[item])
    if not isinstance(item, Mapping) or set(item) - {"azimuth", "elevation"} or "azimuth" not in item:
        raise InvalidParameterError(
            field, f"must be a view name or a mapping {{azimuth, elevation}} in degrees, got {item!r}"
        )
    azimuth, elevation = item["azimuth"], item.get("elevation", 0)
    for name, value, low, high, closed in (
        ("azimuth", azimuth, 0, 360, False),
        ("elevation", elevation, -90, 90, True),
    ):
        ok = (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and low <= value
            and (value <= high if closed else value < high)
        )
        if not ok:
            interval = f"[{low}, {high}]" if closed else f"[{low}, {high})"
            raise InvalidParameterError(f"{field}.{name}", f"must be a number of degrees in {interval}, got {value!r}")
    azimuth, elevation = float(azimuth), float(elevation)
    return View(f"az{azimuth:g}_el{elevation:g}".replace("-", "m"), azimuth, elevation)


def _nearest_name(azimuth: float, elevation: float) -> str:
    def distance(angles: tuple[float, float]) -> float:
        around = abs((azimuth - angles[0] + 180) % 360 - 180)
        return around + abs(elevation - angles[1])

    return min(NAMED_VIEWS, key=lambda name: distance(NAMED_VIEWS[name]))

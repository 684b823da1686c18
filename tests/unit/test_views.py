"""Views of a multi-view request: names and explicit angles, their labels, phrases and errors."""

from __future__ import annotations

import pytest

from abstractvision.errors import InvalidParameterError
from abstractvision.views import parse_views


def test_names_and_angles_become_labelled_views() -> None:
    views = parse_views(["front", {"azimuth": 30, "elevation": -10}, {"azimuth": 180}])
    assert [v.label for v in views] == ["front", "az30_elm10", "az180_el0"]
    assert (views[1].azimuth, views[1].elevation) == (30.0, -10.0)
    assert views[0].phrase() == "front view"
    assert views[1].phrase() == "three quarter view, seen from 30 degrees azimuth and -10 degrees elevation"
    assert views[2].phrase().startswith("back view")


@pytest.mark.parametrize(
    ("angles", "field", "message"),
    [
        ([], "angles", "must be a non-empty list"),
        ("front", "angles", "must be a non-empty list"),
        (["fronte"], "angles[0]", "unknown view 'fronte'; valid views are ['front'"),
        ([{"azimuth": 360}], "angles[0].azimuth", "must be a number of degrees in [0, 360), got 360"),
        ([{"azimuth": 0, "elevation": -91}], "angles[0].elevation", "in [-90, 90], got -91"),
        ([{"azimuth": True}], "angles[0].azimuth", "got True"),
        ([{"elevation": 10}], "angles[0]", "must be a view name or a mapping {azimuth, elevation}"),
        ([{"azimuth": 0, "roll": 5}], "angles[0]", "must be a view name or a mapping"),
        (["side", "side"], "angles", "view 'side' is asked for twice"),
    ],
)
def test_bad_views_are_refused_naming_the_view(angles: object, field: str, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        parse_views(angles)  # type: ignore[arg-type]
    assert info.value.field == field and message in str(info.value)

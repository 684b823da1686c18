"""Sweep expansion on plain data: axes of parameter values become rows of job parameters, lazily.

A sweep is a cartesian product of *blocks*. A block is a set of keys whose values move together:
one grid axis (one key), a zip group (several keys paired element-wise) or the rows of a prompt file.
Values are parsed with Hydra's override grammar (``a,b``, ``range(a,b[,step])``, ``choice(...)``),
but nothing is launched or composed here: a million-job sweep is a few small sequences and a
``range`` or two, and rows are produced one at a time.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import InvalidParameterError

_FUNCTION_SYNTAX = re.compile(r"^\s*(range|choice|glob|interval|shuffle|sort|tag)\s*\(")


@dataclass(frozen=True)
class Block:
    """Keys whose values move together; ``columns[i]`` holds the values of ``keys[i]``. ``labels[i]`` are
    the labels of row ``i`` (prompt files only): carried with the job, never part of it."""

    keys: tuple[str, ...]
    columns: tuple[Sequence[Any], ...]
    source: str
    labels: Sequence[Mapping[str, Any]] | None = None

    def __len__(self) -> int:
        return len(self.columns[0])

    def row(self, index: int) -> dict[str, Any]:
        return {key: column[index] for key, column in zip(self.keys, self.columns, strict=True)}


@dataclass(frozen=True)
class Sweep:
    """The cartesian product of ``blocks`` (no blocks: one job with the base parameters), or the
    combinations of it numbered ``picked`` (a sample), in sweep order."""

    blocks: tuple[Block, ...] = ()
    picked: tuple[int, ...] | None = None

    def __len__(self) -> int:
        return self.grid_size() if self.picked is None else len(self.picked)

    def grid_size(self) -> int:
        """The number of combinations of the whole product, sampled or not."""
        return math.prod(len(block) for block in self.blocks)

    def keys(self) -> tuple[str, ...]:
        return tuple(key for block in self.blocks for key in block.keys)

    def indices(self) -> Iterator[tuple[int, ...]]:
        """Row index into each block, for every job, in a fixed order (the last block varies fastest)."""
        if self.picked is None:
            return itertools.product(*(range(len(block)) for block in self.blocks))
        return (self._unflatten(number) for number in self.picked)

    def sample(self, n: int, seed: int) -> Sweep:
        """``n`` combinations drawn without replacement by a generator seeded with ``seed``.

        Draws come one by one from the same stream, so the first ``n`` of a larger sample are this one:
        raising ``n`` keeps every combination drawn before. Only the draws are held (never the grid).
        """
        total = self.grid_size()
        if n > total:
            raise InvalidParameterError(
                "sweep.sample", f"asks for {n} combinations but the grid has only {total}; lower it or drop it"
            )
        rng, drawn = random.Random(seed), dict[int, None]()
        while len(drawn) < n:
            drawn.setdefault(rng.randrange(total))
        return Sweep(self.blocks, tuple(sorted(drawn)))

    def _unflatten(self, number: int) -> tuple[int, ...]:
        index = []
        for block in reversed(self.blocks):
            number, i = divmod(number, len(block))
            index.append(i)
        return tuple(reversed(index))

    def rows(self) -> Iterator[dict[str, Any]]:
        for index in self.indices():
            row: dict[str, Any] = {}
            for block, i in zip(self.blocks, index, strict=True):
                row.update(block.row(i))
            yield row


def make_sweep(blocks: Sequence[Block]) -> Sweep:
    """Check that no key is swept twice and that no block is empty."""
    seen: dict[str, str] = {}
    for block in blocks:
        if len(block) == 0:
            raise InvalidParameterError(block.source, "the sweep is empty (no values); give at least one value")
        for key in block.keys:
            if key in seen:
                raise InvalidParameterError(
                    block.source, f"sweeps `{key}` a second time (already swept by `{seen[key]}`); keep one of them"
                )
            seen[key] = block.source
    return Sweep(tuple(blocks))


def grid_axis(key: str, value: Any, source: str | None = None) -> Block:
    """One grid axis from a list, an override-grammar string or a parsed Hydra sweep."""
    return Block((key,), (axis_values(source or key, value),), source or key)


def zip_block(values: Mapping[str, Any], source: str) -> Block:
    """Keys paired element-wise; every key must have the same number of values."""
    columns = {key: axis_values(f"{source}.{key}", value) for key, value in values.items()}
    lengths = {key: len(column) for key, column in columns.items()}
    if len(set(lengths.values())) > 1:
        raise InvalidParameterError(source, f"paired (zip) axes need equal lengths, got {lengths}")
    return Block(tuple(columns), tuple(columns.values()), source)


def rows_block(
    rows: Sequence[Mapping[str, Any]], source: str, labels: Sequence[Mapping[str, Any]] | None = None
) -> Block:
    """Rows of parameters (a prompt file) and their labels; a key missing from a row is ``None`` (the default)."""
    keys = tuple(dict.fromkeys(key for row in rows for key in row))
    columns = tuple([row.get(key) for row in rows] for key in keys)
    return Block(keys, columns or ([],), source, labels if labels and any(labels) else None)


def axis_values(source: str, value: Any) -> Sequence[Any]:
    """The values of an axis: a list as is, a string through the override grammar, a scalar as one value."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        parsed = parse_value(source, value)
        return sweep_values(source, parsed) if is_sweep(parsed) else [_plain(parsed)]
    if is_sweep(value):
        return sweep_values(source, value)
    return [value]


def is_sweep(value: Any) -> bool:
    """A parsed Hydra sweep (``a,b``, ``range()``, ``choice()``, ...) or ``glob()``."""
    from hydra.core.override_parser.types import Glob
    from hydra.core.override_parser.types import Sweep as HydraSweep

    return isinstance(value, (HydraSweep, Glob))


def parse_value(source: str, text: str) -> Any:
    """Parse ``text`` as the value of an override; a plain string that is not sweep syntax stays as it is."""
    try:
        return _parser().parse_override(f"key={text}").value()
    except Exception as exc:  # Hydra raises its own OverrideParseException, with a grammar hint
        if _FUNCTION_SYNTAX.match(text) or text.strip().endswith(","):
            raise InvalidParameterError(source, f"malformed sweep {text!r}: {str(exc).splitlines()[0]}") from None
        return text


def sweep_values(source: str, sweep: Any) -> Sequence[Any]:
    """The values of a parsed Hydra sweep (``ChoiceSweep``, ``RangeSweep``) as a sequence."""
    from hydra.core.override_parser.types import ChoiceSweep, Glob, IntervalSweep, RangeSweep

    if isinstance(sweep, Glob):
        raise InvalidParameterError(
            source, "glob() selects config group options (e.g. model=glob(tiny*)); list the values instead"
        )
    if isinstance(sweep, IntervalSweep):
        raise InvalidParameterError(source, "interval() samples at random; list the values or use range(a,b,step)")
    if getattr(sweep, "shuffle", False):
        raise InvalidParameterError(source, "shuffle() is not supported: job order never changes a job or its seed")
    if isinstance(sweep, ChoiceSweep):
        return [_plain(v) for v in sweep.list]
    if isinstance(sweep, RangeSweep):
        return _range(source, sweep.start, sweep.stop, sweep.step)
    raise InvalidParameterError(source, f"unsupported sweep {sweep!r}; use a,b,c or range(a,b[,step])")


def _plain(value: Any) -> Any:
    """Hydra's parsed element without its quoting wrapper (``QuotedString``), recursively."""
    from hydra.core.override_parser.types import QuotedString

    if isinstance(value, QuotedString):
        return value.text
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _range(source: str, start: Any, stop: Any, step: Any) -> Sequence[Any]:
    if step == 0:
        raise InvalidParameterError(source, f"range step must not be 0, got range({start},{stop},{step})")
    if all(isinstance(v, int) for v in (start, stop, step)):
        return range(start, stop, step)
    count = max(0, math.ceil((stop - start) / step))
    return [round(start + i * step, 10) for i in range(count)]


@lru_cache(maxsize=1)
def _parser() -> Any:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create()

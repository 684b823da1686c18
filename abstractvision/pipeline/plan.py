"""Planning: a ``RunConfig`` becomes a validated, lazily expanded stream of jobs.

Everything that can be wrong with the input is checked here, before any model loads: parameter types,
which task uses which parameter, model support for the task, sizes, input files, empty or conflicting
sweeps. Every distinct value is validated and encoded once; expanding the product is then a join and a
hash per job, so a million jobs take seconds and little memory.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import CapabilityNotSupportedError, InvalidParameterError
from ..registry import ModelSpec
from ..validation import check_request
from .config import Combination, RunConfig, redact
from .jobs import JobEncoder, canonical_json
from .params import FILE_PARAMS, PARAMS, build_request, check_used_by, normalize, task_params
from .prompt_files import read_prompt_file
from .sweep import Block, Sweep, grid_axis, make_sweep, rows_block, zip_block

Row = tuple[list[tuple[str, str]], int | None, dict[str, str] | None]


@dataclass(frozen=True)
class BackendGroup:
    """Jobs that share one loaded backend: same backend, options and model."""

    key: str
    backend: str
    options: Mapping[str, Any]
    model: ModelSpec


class PlannedJob(NamedTuple):
    """One planned job; its fields are the manifest row's, in order (a tuple: a million are cheap)."""

    job_id: str
    backend: str
    model: str
    task: str
    seed: int
    identity: str
    inputs: str | None
    group_key: str

    def row(self, seq: int) -> tuple[Any, ...]:
        """The manifest row (see ``Manifest.add_jobs``)."""
        return (*self, seq)


class Plan:
    """The jobs of a run. Iterating ``jobs()`` twice yields the same jobs in the same order."""

    def __init__(self, config: RunConfig, cwd: Path | None = None) -> None:
        self.config = config
        self._files = _FileCache(cwd or Path.cwd(), config.config_dirs)
        self.groups: dict[str, BackendGroup] = {}
        self._parts = [self._part(combination) for combination in config.combinations]

    def size(self) -> int:
        """Number of jobs before identical ones collapse (an upper bound of the distinct count)."""
        return sum(len(part.sweep) for part in self._parts)

    def tasks(self, group_key: str) -> set[str]:
        return {part.task for part in self._parts if part.group.key == group_key}

    def jobs(self) -> Iterator[PlannedJob]:
        base_seed = self.config.run.base_seed
        for part in self._parts:
            group, model = part.group, part.group.model.name
            blocks = part.rows
            for index in part.sweep.indices():
                pieces = list(part.base_pieces)
                seed, inputs = part.base_seed, part.base_inputs
                for rows, i in zip(blocks, index, strict=True):
                    row_pieces, row_seed, row_inputs = rows[i]
                    pieces.extend(row_pieces)
                    if row_seed is not None:
                        seed = row_seed
                    if row_inputs:
                        inputs = {**(inputs or {}), **row_inputs}
                job_id, seed, text = part.encoder.encode(pieces, seed, base_seed)
                inputs_json = json.dumps(inputs, sort_keys=True) if inputs else None
                yield PlannedJob(job_id, group.backend, model, part.task, seed, text, inputs_json, group.key)

    # -- building -----------------------------------------------------------------------------------

    def _part(self, combination: Combination) -> _Part:
        spec, task = combination.model, combination.task
        if not spec.supports(task):
            raise CapabilityNotSupportedError(
                f"model {spec.name!r} does not support task {task!r}; it supports {list(spec.tasks)} "
                "(pick another task= or model=)",
                model=spec.name,
            )
        sweep = make_sweep(self._blocks(combination))
        swept = set(sweep.keys())
        base = {k: normalize(k, v) for k, v in combination.params.items()}
        check_used_by(task, {k: v for k, v in base.items() if k not in swept})
        resolved = {k: base.get(k) if base.get(k) is not None else spec.defaults.get(k) for k in task_params(task)}
        group = self._group(combination)
        part = _Part(group, task, sweep, JobEncoder(group.backend, spec.name, spec.source, task))
        unswept = {k: v for k, v in resolved.items() if k not in swept}
        part.base_pieces, part.base_seed, part.base_inputs = self._encode(unswept)
        part.rows = [self._rows(block, task, resolved) for block in sweep.blocks]
        self._validate(part, spec, resolved)
        return part

    def _blocks(self, combination: Combination) -> list[Block]:
        spec = combination.sweep
        blocks = [grid_axis(key, value) for key, value in spec.grid.items()]
        if spec.zip:
            blocks.append(zip_block(spec.zip, "sweep.zip"))
        if spec.file:
            blocks.append(rows_block(read_prompt_file(self._files.find(spec.file)), "sweep.file"))
        for block in blocks:
            for key in block.keys:
                if key not in PARAMS:
                    raise InvalidParameterError(
                        f"{block.source}.{key}" if block.source == "sweep.zip" else block.source,
                        f"unknown parameter {key!r}; valid parameters are {list(PARAMS)}",
                    )
        return blocks

    def _group(self, combination: Combination) -> BackendGroup:
        spec = combination.model
        options = redact(combination.backend_options)
        identity = {"backend": combination.backend, "options": options, "model": spec.name, "source": spec.source}
        key = hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:12]
        return self.groups.setdefault(key, BackendGroup(key, combination.backend, combination.backend_options, spec))

    def _rows(self, block: Block, task: str, resolved: Mapping[str, Any]) -> _Rows:
        check_used_by(task, dict.fromkeys(block.keys, True))
        if block.keys == ("seed",) and isinstance(block.columns[0], range):
            return _SeedRange(block.columns[0])
        rows: list[Row] = []
        for i in range(len(block)):
            values = {k: normalize(k, v) for k, v in block.row(i).items()}
            values = {k: (resolved.get(k) if v is None else v) for k, v in values.items()}
            seed = values.pop("seed", None)
            pieces, _, inputs = self._encode(values)
            rows.append((pieces, seed, inputs))
        return rows

    def _encode(self, values: Mapping[str, Any]) -> Row:
        """The encoded pieces of ``values``, its seed, and the paths of its input files."""
        pieces, seed, inputs = [], values.get("seed"), {}
        for key, value in values.items():
            if key == "seed" or value is None:
                continue
            if key in FILE_PARAMS:
                inputs[key], digest = self._files.read(key, value)
                value = f"sha256:{digest}"
            pieces.append(JobEncoder.piece(key, value))
        return pieces, seed, inputs or None

    def _validate(self, part: _Part, spec: ModelSpec, resolved: Mapping[str, Any]) -> None:
        """``check_request`` on the base job and on every distinct value of every axis (range ends only)."""
        for b, block in enumerate(part.sweep.blocks):
            rows = part.rows[b]
            indices = [0, len(block) - 1] if isinstance(rows, _SeedRange) else range(len(block))
            for i in indices:
                params = dict(resolved)
                for other, other_block in enumerate(part.sweep.blocks):
                    row = other_block.row(i if other == b else 0)
                    params.update({k: normalize(k, v) for k, v in row.items() if v is not None})
                self._check(part.task, params, spec)
        if not part.sweep.blocks:
            self._check(part.task, dict(resolved), spec)

    def _check(self, task: str, params: dict[str, Any], spec: ModelSpec) -> None:
        params = {k: v for k, v in params.items() if v is not None}
        seed = params.pop("seed", None)
        files = {k: self._files.data(params[k]) for k in FILE_PARAMS if k in params}
        check_request(task, build_request(task, params, seed, files), spec)


class _Part:
    """One combination, ready to expand."""

    def __init__(self, group: BackendGroup, task: str, sweep: Sweep, encoder: JobEncoder) -> None:
        self.group, self.task, self.sweep, self.encoder = group, task, sweep, encoder
        self.base_pieces: list[tuple[str, str]] = []
        self.base_seed: int | None = None
        self.base_inputs: dict[str, str] | None = None
        self.rows: list[_Rows] = []


class _SeedRange:
    """Rows of a ``seed=range(...)`` axis, computed on demand (a million seeds need no million tuples)."""

    def __init__(self, seeds: range) -> None:
        self.seeds = seeds

    def __getitem__(self, i: int) -> Row:
        return [], self.seeds[i], None


_Rows = list[Row] | _SeedRange


class _FileCache:
    """Input files, read and hashed once each; relative paths from the working folder, then the config
    folders in search order (``config_dirs.search_path``)."""

    def __init__(self, cwd: Path, config_dirs: tuple[Path, ...]) -> None:
        from ..config_dirs import search_path

        self.cwd, self.search = cwd, search_path(config_dirs)
        self._read: dict[str, tuple[str, str, bytes]] = {}

    def find(self, value: str) -> Path:
        path = Path(value).expanduser()
        if path.is_absolute():
            return path
        candidates = [self.cwd / path, *(d / path for d in self.search)]
        return next((c for c in candidates if c.exists()), self.cwd / path)

    def read(self, field: str, value: str) -> tuple[str, str]:
        """``(absolute path, sha256)`` of input file ``value`` for parameter ``field``."""
        if value not in self._read:
            path = self.find(value).resolve()
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise InvalidParameterError(field, f"cannot read {value!r}: {exc.strerror}; check the path") from None
            self._read[value] = (str(path), hashlib.sha256(data).hexdigest(), data)
        path, digest, _ = self._read[value]
        return path, digest

    def data(self, value: str) -> bytes:
        return self._read[value][2]

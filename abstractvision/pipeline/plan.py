"""Planning: a ``RunConfig`` becomes a validated, lazily expanded stream of jobs.

Everything that can be wrong with the input is checked here, before any model loads: parameter types,
which task uses which parameter, model support for the task, sizes, input files, empty or conflicting
sweeps. Every distinct value is validated and encoded once; expanding the product is then a join and a
hash per job, so a million jobs take seconds and little memory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from ..backends.base_backend import VisionBackend
from ..backends.factory import backend_entry, build_config, create_backend
from ..backends.options import split_options
from ..errors import CapabilityNotSupportedError, InvalidParameterError
from ..registry import ModelRegistry, ModelSpec
from ..tasks import FILE_PARAMS, PARAMS, get_task
from ..validation import check_request, resolve_params
from .config import Combination, RunConfig, redact
from .inputs import expand_input_files
from .jobs import JobEncoder, canonical_json
from .params import check_used_by, normalize
from .prompt_files import read_prompt_file, split_labels
from .sweep import Block, Sweep, grid_axis, make_sweep, rows_block, zip_block
from .worker import GroupDescription

Row = tuple[list[tuple[str, str]], int | None, dict[str, str] | None, dict[str, Any] | None]
"""A block row encoded: its id pieces, its seed, its input file paths and its labels (not in the id)."""


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
    labels: str | None = None

    def row(self, seq: int) -> tuple[Any, ...]:
        """The manifest row (see ``Manifest.add_jobs``)."""
        return (*self[:-1], seq, self.labels)


class Plan:
    """The jobs of a run. Iterating ``jobs()`` twice yields the same jobs in the same order."""

    def __init__(self, config: RunConfig, cwd: Path | None = None) -> None:
        self.config = config
        self._files = _FileCache(cwd or Path.cwd(), config.config_dirs)
        self.groups: dict[str, GroupDescription] = {}
        self._backends: dict[str, VisionBackend] = {}  # built, never loaded: they check requests' extras
        self._registry: ModelRegistry | None = None
        self._parts = [self._part(combination) for combination in config.combinations]

    def size(self) -> int:
        """Number of jobs before identical ones collapse (an upper bound of the distinct count)."""
        return sum(len(part.sweep) for part in self._parts)

    def grid_size(self) -> int:
        """Number of combinations of the whole sweeps, before any ``sweep.sample``."""
        return sum(part.sweep.grid_size() for part in self._parts)

    def tasks(self, group_key: str) -> set[str]:
        return {part.task for part in self._parts if part.group.key == group_key}

    def jobs(self) -> Iterator[PlannedJob]:
        base_seed = self.config.run.base_seed
        for part in self._parts:
            group, model = part.group, part.group.model.name
            blocks = part.rows
            for index in part.sweep.indices():
                pieces = list(part.base_pieces)
                seed, inputs, labels = part.base_seed, part.base_inputs, None
                for rows, i in zip(blocks, index, strict=True):
                    row_pieces, row_seed, row_inputs, row_labels = rows[i]
                    pieces.extend(row_pieces)
                    if row_seed is not None:
                        seed = row_seed
                    if row_inputs:
                        inputs = {**(inputs or {}), **row_inputs}
                    labels = row_labels or labels
                job_id, seed, text = part.encoder.encode(pieces, seed, base_seed)
                inputs_json = json.dumps(inputs, sort_keys=True) if inputs else None
                labels_json = json.dumps(labels, sort_keys=True) if labels else None
                yield PlannedJob(
                    job_id, group.backend, model, part.task, seed, text, inputs_json, group.key, labels_json
                )

    # -- building -----------------------------------------------------------------------------------

    def _part(self, combination: Combination) -> _Part:
        spec, task = combination.model, combination.task
        self._check_model_fits(combination)
        sweep = make_sweep(self._blocks(combination))
        if combination.sweep.sample is not None:
            sweep = sweep.sample(combination.sweep.sample, combination.sweep.sample_seed)
        swept = set(sweep.keys())
        base = {k: normalize(k, v) for k, v in combination.params.items()}
        check_used_by(task, {k: v for k, v in base.items() if k not in swept})
        resolved = resolve_params({k: base.get(k) for k in get_task(task).params()}, spec)
        group = self._group(combination, task)
        encoder = JobEncoder(group.backend, spec.name, spec.source, group.job_identity, task)
        part = _Part(group, task, sweep, encoder)
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
            rows, labels = split_labels(read_prompt_file(self._files.find(spec.file)))
            blocks.append(rows_block(rows, "sweep.file", labels))
        blocks = [self._expand_input_files(block) for block in blocks]
        swept = {key for block in blocks for key in block.keys}
        for key in FILE_PARAMS:  # a folder or glob given as one value is an axis of its files
            files = expand_input_files(key, combination.params.get(key), self._files.find)
            if key not in swept and files is not None:
                blocks.append(grid_axis(key, files))
        for block in blocks:
            for key in block.keys:
                if key not in PARAMS:
                    raise InvalidParameterError(
                        f"{block.source}.{key}" if block.source == "sweep.zip" else block.source,
                        f"unknown parameter {key!r}; valid parameters are {list(PARAMS)}",
                    )
        return blocks

    def _expand_input_files(self, block: Block) -> Block:
        """A grid axis of a file parameter with each folder or glob value replaced by its files."""
        if len(block.keys) != 1 or block.keys[0] not in FILE_PARAMS:
            return block
        key, values = block.keys[0], []
        for value in block.columns[0]:
            values.extend(expand_input_files(key, value, self._files.find) or [value])
        return Block(block.keys, (values,), block.source)

    def _check_model_fits(self, combination: Combination) -> None:
        """The model runs on the chosen backend and does the chosen task; else one error naming what fits."""
        spec, backend, task = combination.model, combination.backend, combination.task
        if not backend_entry(backend).runs_any_model and not spec.runs_on(backend):
            fitting = [name for name in self.registry().names() if self.registry().get(name).runs_on(backend)]
            raise CapabilityNotSupportedError(
                f"model {spec.name!r} runs on backend(s) {list(spec.backends)}, not {backend!r}: set "
                f"backend={spec.backends[0]}, or pick a model the {backend} backend runs: {fitting}",
                backend=backend,
                model=spec.name,
            )
        if not spec.supports(task):
            raise CapabilityNotSupportedError(
                f"model {spec.name!r} does not support task {task!r}; it supports {list(spec.tasks)} "
                "(pick another task= or model=)",
                model=spec.name,
            )

    def backend_of(self, group_key: str) -> VisionBackend:
        """The group's backend as planning built it (never loaded), for checks made once before any job."""
        return self._backends[group_key]

    def registry(self) -> ModelRegistry:
        """The models of this run's config folders (for suggestions)."""
        if self._registry is None:
            self._registry = ModelRegistry(self.config.config_dirs)
        return self._registry

    def _group(self, combination: Combination, task: str) -> GroupDescription:
        """The group of ``combination`` (options validated, files fingerprinted, task support checked once)."""
        spec, kind = combination.model, combination.backend
        options = dict(combination.backend_options)
        key = group_key(kind, spec, options)
        if key not in self.groups:
            self.groups[key] = describe_group(key, kind, spec, options)
        if key not in self._backends:  # one per group: building a backend opens sessions, reads files
            self._backends[key] = create_backend(kind, spec, options)
        backend = self._backends[key]
        if not backend.get_capabilities().supports(task):
            raise backend.unsupported(task)
        return self.groups[key]

    def _rows(self, block: Block, task: str, resolved: Mapping[str, Any]) -> _Rows:
        check_used_by(task, dict.fromkeys(block.keys, True))
        if block.keys == ("seed",) and isinstance(block.columns[0], range):
            return _SeedRange(block.columns[0])
        rows: list[Row] = []
        first_of: dict[str, int] = {}
        for i in range(len(block)):
            values = {k: normalize(k, v) for k, v in block.row(i).items()}
            values = {k: (resolved.get(k) if v is None else v) for k, v in values.items()}
            seed = values.pop("seed", None)
            pieces, _, inputs = self._encode(values)
            labels = dict(block.labels[i]) if block.labels else None
            if block.labels:
                _check_labels_apart(block, first_of.setdefault(canonical_json([pieces, seed]), i), i)
            rows.append((pieces, seed, inputs, labels))
        return rows

    def _encode(self, values: Mapping[str, Any]) -> tuple[list[tuple[str, str]], int | None, dict[str, str] | None]:
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
                self._check(part, params, spec)
        if not part.sweep.blocks:
            self._check(part, dict(resolved), spec)

    def _check(self, part: _Part, params: dict[str, Any], spec: ModelSpec) -> None:
        params = {k: v for k, v in params.items() if v is not None}
        seed = params.pop("seed", None)
        files = {k: self._files.data(params[k]) for k in FILE_PARAMS if k in params}
        request = get_task(part.task).build_request(params, seed, files)
        check_request(part.task, request, spec)
        self._backends[part.group.key].check_request(request)


def group_key(backend: str, spec: ModelSpec, options: Mapping[str, Any]) -> str:
    """The key of the group of jobs that share one backend: a hash of its backend, model and options."""
    described = {"backend": backend, "model": dataclasses.asdict(spec), "options": redact(options)}
    return hashlib.sha256(canonical_json(described).encode()).hexdigest()[:12]


def describe_group(key: str, backend: str, spec: ModelSpec, options: Mapping[str, Any]) -> GroupDescription:
    """The group's description: its options validated and split by role, its job identity computed."""
    config_cls, _ = backend_entry(backend).classes()
    identity_options, placement_options = split_options(config_cls, options)
    config = build_config(backend, options, spec)
    return GroupDescription(key, backend, spec, identity_options, placement_options, config.job_identity(spec))


class _Part:
    """One combination, ready to expand."""

    def __init__(self, group: GroupDescription, task: str, sweep: Sweep, encoder: JobEncoder) -> None:
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
        return [], self.seeds[i], None, None


_Rows = list[Row] | _SeedRange


def _check_labels_apart(block: Block, first: int, i: int) -> None:
    """Rows that make the same job must carry the same labels: one job (one image) cannot hold two sets."""
    labels = block.labels or []
    if labels[first] != labels[i]:
        raise InvalidParameterError(
            block.source,
            f"rows {first + 1} and {i + 1} are the same job (same parameters and seed) but carry different labels "
            f"({labels[first]} vs {labels[i]}); labels do not change the image, so give the rows different "
            "parameters (a seed column, say) or the same labels",
        )


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

"""A run's results as Python objects: iterate, filter, tabulate and look at the done jobs of a run folder.

``RunResult`` reads the manifest (read-only, through ``RunDir``) each time it is asked, so it works on a
finished folder, on one a runner is still writing, and right after ``abstractvision.run(...)``. Images
and frames load only when an item's ``image``/``frames`` is read. In Jupyter a result shows itself as a
small contact sheet (``outputs/grid.py``).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BackendUnavailableError, InvalidParameterError
from ..tasks import PARAMS, get_task
from .run_dir import RunDir

if TYPE_CHECKING:
    from PIL import Image

    from ..outputs.grid import Sheet
    from .runner import RunSummary

JOB_KEYS = ("job_id", "model", "task", "seed")
"""Keys ``where()`` accepts besides the generation parameters."""
REPR_MAX_IMAGES = 64
REPR_CELL_SIZE = 96


@dataclass(frozen=True)
class RunItem:
    """One done job: what it was (id, model, task, seed, resolved parameters) and where its files are."""

    job_id: str
    model: str
    task: str
    seed: int
    params: Mapping[str, Any]
    """Resolved parameters (model defaults filled in); input files appear as ``sha256:<hex>``."""
    inputs: Mapping[str, str]
    """Input files by parameter (absolute paths as planned)."""
    path: Path
    """The job's main output file."""
    run_dir: Path
    """The run folder (sidecar paths are relative to it)."""

    @property
    def sidecar(self) -> Path:
        """The ``<job_id>.json`` provenance record beside the output."""
        return self.path.with_name(f"{self.job_id}.json")

    @property
    def paths(self) -> list[Path]:
        """Every output file of the job (several for multi-view tasks), as listed in its sidecar."""
        try:
            files = self.metadata()["files"]
        except (OSError, ValueError, KeyError):
            return [self.path]
        return [self.run_dir / entry["path"] for entry in files]

    def metadata(self) -> dict[str, Any]:
        """The sidecar record: backend metadata, the job identity, timings and files with their SHA-256."""
        return json.loads(self.sidecar.read_text(encoding="utf-8"))

    @property
    def image(self) -> Image.Image:
        """The output image, loaded from disk on each access (the first one for multi-view tasks)."""
        if get_task(self.task).output == "video":
            raise InvalidParameterError("image", f"job {self.job_id} ({self.task}) is a video; use .frames()")
        return _load_image(self.path)

    @property
    def images(self) -> list[Image.Image]:
        """Every output image of the job, loaded from disk."""
        return [_load_image(path) for path in self.paths]

    def frames(self) -> list[Image.Image]:
        """The frames of a video output (GIF/WebP with Pillow; MP4/WebM need the ``video`` extra)."""
        from ..media.frames import iter_frames

        return list(iter_frames(self.path, self.path.suffix))


class RunResult:
    """The jobs of the run folder ``run_dir``: iterate the done ones, count, filter, tabulate, show.

    ``plan`` limits the result to the jobs of one command run there (``abstractvision.run`` passes its
    own); ``None`` means every job the folder holds.
    """

    def __init__(
        self,
        run_dir: str | os.PathLike[str],
        *,
        plan: int | None = None,
        summary: RunSummary | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> None:
        RunDir(run_dir).open_readonly().close()  # a clear error now, naming the path as given, if not a run
        self.run_dir = Path(run_dir).expanduser().resolve()
        self.plan = plan
        self.summary = summary
        """The runner's summary when this result comes from ``run(...)`` (``None`` from ``open_run``)."""
        self.filters = dict(filters or {})

    # -- reading ------------------------------------------------------------------------------------------

    def records(self, status: str | None = "done") -> Iterator[dict[str, Any]]:
        """Manifest records (``status`` ones, all with ``None``) that match the filters, in plan order."""
        manifest = RunDir(self.run_dir).open_readonly()
        try:
            for record in manifest.records(status, plan=self.plan):
                if _matches(record, self.filters):
                    yield record
        finally:
            manifest.close()

    def __iter__(self) -> Iterator[RunItem]:
        for record in self.records():
            identity = record["params"]
            yield RunItem(
                record["job_id"],
                record["model"],
                record["task"],
                record["seed"],
                identity.get("params", {}),
                record["inputs"],
                self.run_dir / record["output"],
                self.run_dir,
            )

    def __len__(self) -> int:
        return sum(1 for _ in self.records())

    @property
    def counts(self) -> dict[str, int]:
        """Jobs by status (``total``, ``pending``, ``running``, ``done``, ``failed``), before any filter."""
        manifest = RunDir(self.run_dir).open_readonly()
        try:
            return manifest.counts(self.plan)
        finally:
            manifest.close()

    @property
    def failures(self) -> list[dict[str, Any]]:
        """Failed jobs with their params, seed, attempts and last error."""
        keys = ("job_id", "model", "task", "seed", "attempts", "error_type", "error")
        return [{**{k: r[k] for k in keys}, "params": r["params"].get("params", {})} for r in self.records("failed")]

    @property
    def interrupted(self) -> bool:
        """Whether the run stopped early (Ctrl-C): calling the same ``run(...)`` again resumes it."""
        return bool(self.summary and self.summary.interrupted)

    # -- narrowing and views ------------------------------------------------------------------------------

    def where(self, **values: Any) -> RunResult:
        """The jobs whose parameters match: ``where(guidance_scale=7.5)``; a list, tuple, set or range
        means any of its values (``where(seed=range(2))``). Iteration, ``len``, ``failures``, ``grid`` and
        ``to_pandas`` follow the filter; ``counts`` stay the run's."""
        unknown = sorted(set(values) - set(PARAMS) - set(JOB_KEYS))
        if unknown:
            raise InvalidParameterError(
                unknown[0], f"not a job key; filter on {list(JOB_KEYS)} or a parameter of {list(PARAMS)}"
            )
        return RunResult(self.run_dir, plan=self.plan, summary=self.summary, filters={**self.filters, **values})

    def to_pandas(self) -> Any:
        """One row per done job: ``job_id``, ``model``, ``task``, ``seed``, each parameter, ``path``."""
        try:
            import pandas
        except ImportError:
            raise BackendUnavailableError("RunResult.to_pandas() needs pandas: pip install pandas") from None
        rows = [
            {"job_id": i.job_id, "model": i.model, "task": i.task, "seed": i.seed, **i.params, "path": str(i.path)}
            for i in self
        ]
        return pandas.DataFrame(rows, columns=None if rows else ["job_id", "model", "task", "seed", "path"])

    def grid(
        self, x: str | None = None, y: str | None = None, z: str | None = None, cell_size: int = 192
    ) -> Image.Image:
        """The done images on one labelled contact sheet, laid out as ``abstractvision grid`` does (seeds across
        by default). A layout that needs several sheets is refused: narrow with ``where()``, or use
        ``grid_sheets()``."""
        sheets = self.grid_sheets(x, y, z, cell_size)
        if len(sheets) > 1:
            titles = ", ".join(sheet.title for sheet in sheets[:3])
            raise InvalidParameterError(
                "grid",
                f"makes {len(sheets)} sheets ({titles}, ...); narrow the result with where() or use grid_sheets()",
            )
        return sheets[0].image

    def grid_sheets(
        self, x: str | None = None, y: str | None = None, z: str | None = None, cell_size: int = 192
    ) -> list[Sheet]:
        """Every sheet of the XYZ plot of the done images (docs/review.md)."""
        from ..outputs.grid import cells_from_records, choose_layout, contact_sheets

        cells = cells_from_records(self.records(), self.run_dir)
        return contact_sheets(cells, choose_layout(cells, x, y, z), cell_size=cell_size)

    def _repr_png_(self) -> bytes | None:
        """Jupyter's picture of the result: a small grid of the first images (none: the text repr)."""
        from ..outputs.grid import cells_from_records, choose_layout, contact_sheets

        cells = cells_from_records(self.records(), self.run_dir)[:REPR_MAX_IMAGES]
        if not cells:
            return None
        buffer = io.BytesIO()
        contact_sheets(cells, choose_layout(cells), cell_size=REPR_CELL_SIZE)[0].image.save(buffer, format="PNG")
        return buffer.getvalue()

    def __repr__(self) -> str:
        c = self.counts
        text = (
            f"RunResult({str(self.run_dir)!r}: {c['done']} done, {c['failed']} failed, "
            f"{c['pending'] + c['running']} to do"
        )
        if self.filters:
            text += f"; where {', '.join(f'{k}={v!r}' for k, v in self.filters.items())}: {len(self)} done"
        return text + ("; interrupted: run the same call again to resume)" if self.interrupted else ")")


def open_run(run_dir: str | os.PathLike[str]) -> RunResult:
    """The results of an existing run folder (made by ``abstractvision run`` or ``abstractvision.run``)."""
    return RunResult(run_dir)


def _matches(record: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
    params = record["params"].get("params", {})
    for key, wanted in filters.items():
        value = record[key] if key in JOB_KEYS else params.get(key)
        if isinstance(wanted, (list, tuple, set, frozenset, range)):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


def _load_image(path: Path) -> Image.Image:
    from PIL import Image

    with Image.open(path) as image:
        image.load()
        return image

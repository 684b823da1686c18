"""What a run would do, without doing it: job count, groups and a sample (``abstractvision.plan``, ``--dry-run``).

Built from a ``Plan`` by walking its jobs once (ids only are kept, so a million jobs stay cheap); nothing is
loaded and nothing is written.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .plan import Plan


@dataclass(frozen=True)
class JobPreview:
    """One planned job: its id, seed and resolved parameters."""

    job_id: str
    model: str
    task: str
    seed: int
    params: Mapping[str, Any]


@dataclass(frozen=True)
class GroupPreview:
    """One backend group (backend + options + model, loaded once) and how many distinct jobs it runs."""

    key: str
    backend: str
    model: str
    jobs: int


@dataclass(frozen=True)
class RunPlan:
    """The distinct jobs of a run (identical ones collapse), its groups, a sample, and its run folder."""

    jobs: int
    duplicates: int
    groups: tuple[GroupPreview, ...]
    sample: tuple[JobPreview, ...]
    run_dir: Path

    @classmethod
    def of(cls, plan: Plan, run_dir: Path, sample: int) -> RunPlan:
        seen: set[str] = set()
        per_group: Counter[str] = Counter()
        picked = []
        for job in plan.jobs():
            if job.job_id in seen:
                continue
            seen.add(job.job_id)
            per_group[job.group_key] += 1
            if len(picked) < sample:
                params = json.loads(job.identity)["params"]
                picked.append(JobPreview(job.job_id, job.model, job.task, job.seed, params))
        groups = tuple(
            GroupPreview(key, group.backend, group.model.name, per_group[key])
            for key, group in sorted(plan.groups.items())
        )
        return cls(len(seen), plan.size() - len(seen), groups, tuple(picked), run_dir)

    def describe(self) -> str:
        """The dry-run text: counts, the run folder, the sample."""
        lines = [
            f"{self.jobs} jobs ({self.duplicates} duplicates collapsed) in {len(self.groups)} backend group(s); "
            f"run dir {self.run_dir}"
        ]
        for job in self.sample:
            params = json.dumps(job.params, ensure_ascii=False, sort_keys=True)
            lines.append(f"  {job.job_id}  {job.model}  {job.task}  seed={job.seed}  {params}")
        if self.jobs > len(self.sample):
            lines.append(f"  ... and {self.jobs - len(self.sample)} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()

"""The manifest on in-memory SQLite: migrations, atomic(), job lifecycle, export."""

from __future__ import annotations

import json
import sqlite3

import pytest

from abstractvision.errors import GenerationError, RunError
from abstractvision.pipeline.manifest import Manifest, migration


def row(job_id: str, seq: int, group: str = "g") -> tuple:
    identity = json.dumps({"params": {"prompt": job_id}, "seed": seq})
    return (job_id, "diffusers", "tiny-sd", "text_to_image", seq, identity, None, group, seq, None)


@pytest.fixture
def manifest():
    m = Manifest(":memory:")
    yield m
    m.close()


def test_schema_and_migrations_are_recorded(manifest) -> None:
    names = [r[0] for r in manifest.conn.execute("SELECT name FROM migrations")]
    assert names == ["0001_initial", "0002_meta", "0003_interrupts", "0004_labels", "0005_verifications"]
    assert manifest.migrate() == []
    columns = {r[1] for r in manifest.conn.execute("PRAGMA table_info(jobs)")}
    assert {"job_id", "status", "seed", "params", "output", "sha256", "error", "attempts", "duration_s"} <= columns


def test_duplicate_migration_names_are_refused() -> None:
    with pytest.raises(ValueError, match="migration '0001_initial' is registered twice"):
        migration("0001_initial")(lambda conn: None)


def test_atomic_nests_with_savepoints(manifest) -> None:
    plan = manifest.start_plan({})
    with manifest.atomic():
        manifest.add_jobs([row("a", 0)], plan)
        with pytest.raises(ZeroDivisionError), manifest.atomic():
            manifest.add_jobs([row("b", 1)], plan)
            raise ZeroDivisionError
    assert [r[0] for r in manifest.conn.execute("SELECT job_id FROM jobs")] == ["a"]
    with pytest.raises(ZeroDivisionError), manifest.atomic():
        manifest.add_jobs([row("c", 2)], plan)
        raise ZeroDivisionError
    assert manifest.counts()["total"] == 1


def test_lifecycle_and_counts(manifest) -> None:
    plan = manifest.start_plan({"x": 1})
    assert manifest.add_jobs([row("a", 0), row("b", 1), row("c", 2, "h")], plan) == 3
    assert [r["job_id"] for r in manifest.todo(plan, "g")] == ["a", "b"]
    manifest.mark_running("a")
    manifest.mark_done("a", "outputs/a.png", "ff", 1, {"duration_s": 0.5, "load_s": 0.1, "generate_s": 0.3})
    manifest.mark_running("b")
    manifest.mark_failed("b", GenerationError("boom"), 3, 0.2)
    manifest.mark_running("c")
    assert manifest.counts() == {"total": 3, "pending": 0, "running": 1, "done": 1, "failed": 1}
    assert manifest.reset_running(max_interrupts=2) == []  # "c" interrupted once: pending again, one attempt
    assert tuple(manifest.conn.execute("SELECT attempts, interrupts FROM jobs WHERE job_id = 'c'").fetchone()) == (1, 1)
    assert manifest.failures() == [{"job_id": "b", "error_type": "GenerationError", "error": "boom", "attempts": 3}]
    assert list(manifest.done_outputs(plan)) == [("a", "outputs/a.png", "ff")]
    assert [r["job_id"] for r in manifest.todo(plan, "g")] == ["b"]
    assert manifest.count_todo(plan) == 2


def test_replanning_keeps_status_and_moves_jobs_to_the_new_plan(manifest) -> None:
    first = manifest.start_plan({})
    manifest.add_jobs([row("a", 0), row("b", 1)], first)
    manifest.mark_done("a", "outputs/a.png", "ff", 1, {})
    second = manifest.start_plan({})
    manifest.add_jobs([row("a", 0), row("c", 1)], second)
    assert manifest.counts()["total"] == 3
    assert [r["job_id"] for r in manifest.todo(second, "g")] == ["c"]
    assert manifest.count_todo(second) == 1


def test_todo_pages_through_many_jobs_while_they_change(manifest) -> None:
    plan = manifest.start_plan({})
    manifest.add_jobs((row(f"j{i:04d}", i) for i in range(1234)), plan, batch_size=100)
    seen = []
    for r in manifest.todo(plan, "g", page=100):
        manifest.mark_done(r["job_id"], "o", "s", 1, {})
        seen.append(r["job_id"])
    assert len(seen) == len(set(seen)) == 1234


def test_mark_redo(manifest) -> None:
    plan = manifest.start_plan({})
    manifest.add_jobs([row("a", 0)], plan)
    manifest.mark_done("a", "outputs/a.png", "ff", 1, {})
    assert manifest.mark_redo(["a"]) == 1
    assert manifest.counts()["pending"] == 1


def test_export_jsonl(manifest, tmp_path) -> None:
    plan = manifest.start_plan({})
    manifest.add_jobs([row("a", 0), row("b", 1)], plan)
    assert manifest.export_jsonl(tmp_path / "m.jsonl") == 2
    lines = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert lines[0]["job_id"] == "a" and lines[0]["params"] == {"params": {"prompt": "a"}, "seed": 0}


def test_a_file_that_is_not_sqlite_is_refused(tmp_path) -> None:
    path = tmp_path / "manifest.sqlite"
    path.write_text("not a database")
    with pytest.raises(RunError, match="is not an AbstractVision manifest"):
        Manifest(path)
    assert path.read_text() == "not a database"


def test_file_manifest_uses_wal_and_reads_back(tmp_path) -> None:
    path = tmp_path / "manifest.sqlite"
    m = Manifest(path)
    m.add_jobs([row("a", 0)], m.start_plan({}))
    assert m.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reader = Manifest(path, readonly=True)
    assert reader.counts()["pending"] == 1
    with pytest.raises(sqlite3.OperationalError):
        reader.conn.execute("DELETE FROM jobs")
    reader.close()
    m.close()


def test_throughput_counts_only_the_time_jobs_ran() -> None:
    """Two commands an hour apart in the same folder: the hour between them is not run time."""
    manifest = Manifest()
    plan = manifest.start_plan({})
    rows = [(f"j{i}", "diffusers", "tiny-sd", "text_to_image", i, "{}", None, "g", i, None) for i in range(4)]
    manifest.add_jobs(rows, plan)
    spans = [(0.0, 2.0), (1.0, 3.0), (3600.0, 3601.0), (3601.0, 3602.0)]  # 2 in parallel, then 2 an hour later
    for i, (started, finished) in enumerate(spans):
        manifest.mark_done(f"j{i}", f"outputs/j{i}.png", "sha", 1, {"duration_s": finished - started})
        manifest.conn.execute(
            "UPDATE jobs SET started_at = ?, finished_at = ? WHERE job_id = ?", (started, finished, f"j{i}")
        )
    assert manifest.throughput() == {"elapsed_s": 5.0, "jobs_per_s": 0.8, "mean_job_s": 1.5}


def test_a_new_plan_updates_labels_without_redoing_the_job(manifest) -> None:
    labelled = (*row("a", 0)[:-1], json.dumps({"species": "fox"}))
    manifest.add_jobs([labelled], manifest.start_plan({}))
    manifest.mark_done("a", "outputs/a.png", "0" * 64, 1, {})
    relabelled = (*row("a", 0)[:-1], json.dumps({"species": "vixen"}))
    manifest.add_jobs([relabelled], manifest.start_plan({}))
    [record] = manifest.records()
    assert record["status"] == "done" and record["labels"] == {"species": "vixen"}
    assert manifest.fields("done") == {"params": {"prompt": {"text"}}, "labels": {"species": {"text"}}}
    assert manifest.count("done", {"species": "vixen"}) == 1 and manifest.count("done", {"species": "fox"}) == 0


def test_planning_restores_the_connection_settings_it_raises(tmp_path) -> None:
    """add_jobs plans with a bigger cache and rarer checkpoints; the run that follows gets SQLite's own again."""
    m = Manifest(tmp_path / "manifest.sqlite")
    before = [m.conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("cache_size", "wal_autocheckpoint")]
    m.add_jobs((row(f"j{i}", i) for i in range(50)), m.start_plan({}), batch_size=20)
    after = [m.conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("cache_size", "wal_autocheckpoint")]
    assert after == before and m.counts()["total"] == 50
    m.close()

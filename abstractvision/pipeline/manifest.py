"""The run manifest: one SQLite file per run, the single source of truth, written by one process.

The schema is a stable interface, documented in ``docs/manifest.md`` and built by named migrations
(each applied in the same transaction that records it). ``atomic()`` nests through SAVEPOINTs. A job
becomes ``done`` in the one transaction that records its output file and that file's SHA-256, and
the runner calls it only after the file has been written atomically.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import ManifestDamagedError, RunError, RunWriteError
from .jobs import IDENTITY_VERSION

STATUSES = ("pending", "running", "done", "failed")
_BULK_PRAGMAS = {"cache_size": -65536, "wal_autocheckpoint": 10_000}  # 64 MiB of cache, 40 MB of WAL
_MIGRATIONS: dict[str, Callable[[sqlite3.Connection], None]] = {}


def migration(name: str) -> Callable[[Callable[[sqlite3.Connection], None]], Callable[[sqlite3.Connection], None]]:
    """Register a schema migration under a unique name; they run in registration order."""

    def register(function: Callable[[sqlite3.Connection], None]) -> Callable[[sqlite3.Connection], None]:
        if name in _MIGRATIONS:
            raise ValueError(f"migration {name!r} is registered twice (known: {list(_MIGRATIONS)})")
        _MIGRATIONS[name] = function
        return function

    return register


@migration("0001_initial")
def _initial(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE jobs (
            job_id TEXT PRIMARY KEY,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
            backend TEXT NOT NULL,
            model TEXT NOT NULL,
            task TEXT NOT NULL,
            seed INTEGER NOT NULL,
            params TEXT NOT NULL,
            inputs TEXT,
            group_key TEXT NOT NULL,
            plan INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            output TEXT,
            sha256 TEXT,
            error TEXT,
            error_type TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            duration_s REAL,
            load_s REAL,
            generate_s REAL
        )"""
    )
    conn.execute(
        """CREATE TABLE plans (
            plan INTEGER PRIMARY KEY,
            started_at REAL NOT NULL,
            finished_at REAL,
            jobs INTEGER,
            config TEXT NOT NULL,
            argv TEXT
        )"""
    )
    conn.execute(
        "CREATE TABLE groups (group_key TEXT PRIMARY KEY, backend TEXT NOT NULL, model TEXT NOT NULL, options TEXT)"
    )


@migration("0002_meta")
def _meta(conn: sqlite3.Connection) -> None:
    """Facts about the whole run, such as the identity version its job ids were made under."""
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    has_jobs = conn.execute("SELECT 1 FROM jobs LIMIT 1").fetchone() is not None
    version = 1 if has_jobs else IDENTITY_VERSION  # jobs planned before versions were recorded: version 1
    conn.execute("INSERT INTO meta VALUES ('identity_version', ?)", (str(version),))


@migration("0003_interrupts")
def _interrupts(conn: sqlite3.Connection) -> None:
    """How many runners died while a job was running: a job that keeps crashing them is quarantined."""
    conn.execute("ALTER TABLE jobs ADD COLUMN interrupts INTEGER NOT NULL DEFAULT 0")


QUARANTINED = "JobInterruptedError"
"""The ``error_type`` of jobs quarantined as possibly crashing the runner: skipped until asked for."""


@migration("0004_labels")
def _labels(conn: sqlite3.Connection) -> None:
    """Labels of a job (from a prompt file's ``label.*`` columns): carried to exports, never in its identity."""
    conn.execute("ALTER TABLE jobs ADD COLUMN labels TEXT")


@migration("0005_verifications")
def _verifications(conn: sqlite3.Connection) -> None:
    """When and where ``abstractvision verify`` re-ran a sample of the run, and what it found."""
    conn.execute(
        """CREATE TABLE verifications (
            verified_at REAL NOT NULL,
            host TEXT NOT NULL,
            environment TEXT NOT NULL,
            tolerance INTEGER NOT NULL,
            checked INTEGER NOT NULL,
            mismatched INTEGER NOT NULL,
            results TEXT NOT NULL
        )"""
    )


class Manifest:
    """A run's ``manifest.sqlite`` (``":memory:"`` for tests)."""

    def __init__(self, path: str | Path = ":memory:", *, readonly: bool = False) -> None:
        self.path = str(path)
        try:
            if readonly:
                self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
            else:
                self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                self.check_identity_version()  # before anything writes, the journal mode included
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")
                self.conn.execute("PRAGMA busy_timeout=5000")
                self.migrate()
            self.conn.execute("SELECT count(*) FROM jobs").fetchone()
        except sqlite3.DatabaseError as exc:
            if _corrupt(exc):
                raise damaged(self.path, str(exc)) from None
            raise RunError(f"{self.path} is not an AbstractVision manifest ({exc}); use another run.dir") from None
        self.conn.row_factory = sqlite3.Row
        self._depth = 0

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A transaction; nested calls become SAVEPOINTs. Rolls back and re-raises on error; a write that the
        disk refuses (full, read-only, I/O error) becomes a ``RunWriteError`` naming the manifest."""
        with self._write_errors():
            if self._depth == 0:
                self.conn.execute("BEGIN IMMEDIATE")
            else:
                self.conn.execute(f"SAVEPOINT sp{self._depth}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._rollback()
                else:
                    self.conn.execute(f"ROLLBACK TO sp{self._depth}")
                    self.conn.execute(f"RELEASE sp{self._depth}")
                raise
            self._depth -= 1
            try:
                self.conn.execute("COMMIT" if self._depth == 0 else f"RELEASE sp{self._depth}")
            except sqlite3.OperationalError:
                if self._depth == 0:
                    self._rollback()
                raise

    def _rollback(self) -> None:
        """Roll back the open transaction, if SQLite has not already (it does after a full disk)."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    @contextmanager
    def _write_errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            raise RunWriteError(
                f"{self.path} could not be written ({exc}); the run stopped. {RunWriteError.advice}"
            ) from None

    def check_integrity(self) -> None:
        """SQLite's own structural check (every page of every table and index), before a runner writes here."""
        try:
            problems = [row[0] for row in self.conn.execute("PRAGMA quick_check(3)")]
        except sqlite3.DatabaseError as exc:
            problems = [str(exc)]
        if problems != ["ok"]:
            self.conn.close()
            raise damaged(self.path, "; ".join(problems))

    def identity_version(self) -> int:
        """The job-identity layout this run's ids were made under (1: before versions were recorded)."""
        tables = {row[0] for row in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "meta" not in tables:
            return 1 if "jobs" in tables else IDENTITY_VERSION
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'identity_version'").fetchone()
        return int(row[0]) if row else IDENTITY_VERSION

    def check_identity_version(self) -> None:
        """Refuse, before writing anything, a run whose job ids were made under another identity layout:
        its jobs would all look new (and be redone), or worse, its old images be handed back as current."""
        version = self.identity_version()
        if version != IDENTITY_VERSION:
            self.conn.close()
            raise RunError(
                f"{self.path} was made by an AbstractVision whose job ids follow identity version {version}; "
                f"this one uses version {IDENTITY_VERSION} (ids now cover every backend option that changes the "
                "output), so its jobs cannot be matched. Start a new run folder (another run.dir); the old one "
                "stays readable with `abstractvision status`"
            )

    def migrate(self) -> list[str]:
        """Apply the migrations not yet recorded; returns their names."""
        self.conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
        done = {row[0] for row in self.conn.execute("SELECT name FROM migrations")}
        applied = []
        for name, function in _MIGRATIONS.items():
            if name in done:
                continue
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                function(self.conn)
                self.conn.execute("INSERT INTO migrations VALUES (?, ?)", (name, time.time()))
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            applied.append(name)
        return applied

    # -- planning ---------------------------------------------------------------------------------

    def start_plan(self, config: dict[str, Any], argv: list[str] | None = None) -> int:
        with self.atomic():
            cursor = self.conn.execute(
                "INSERT INTO plans (started_at, config, argv) VALUES (?, ?, ?)",
                (time.time(), json.dumps(config, sort_keys=True, default=str), json.dumps(argv or [])),
            )
        return int(cursor.lastrowid or 0)

    def finish_plan(self, plan: int, jobs: int) -> None:
        with self.atomic():
            self.conn.execute("UPDATE plans SET finished_at = ?, jobs = ? WHERE plan = ?", (time.time(), jobs, plan))

    def add_group(self, group_key: str, backend: str, model: str, options: dict[str, Any]) -> None:
        with self.atomic():
            self.conn.execute(
                "INSERT OR REPLACE INTO groups VALUES (?, ?, ?, ?)",
                (group_key, backend, model, json.dumps(options, sort_keys=True, default=str)),
            )

    def add_jobs(self, rows: Iterable[tuple[Any, ...]], plan: int, batch_size: int = 20_000) -> int:
        """Insert planned jobs, or mark existing ones as part of ``plan``; returns how many rows were given.

        ``rows`` are ``(job_id, backend, model, task, seed, params, inputs, group_key, seq, labels)``. Labels
        are not part of a job's identity, so a new plan updates them (like ``inputs``) without redoing the job.
        """
        sql = (
            "INSERT INTO jobs (job_id, backend, model, task, seed, params, inputs, group_key, seq, labels, plan, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (job_id) DO UPDATE SET plan = excluded.plan, seq = excluded.seq, "
            "group_key = excluded.group_key, inputs = excluded.inputs, labels = excluded.labels"
        )
        total, now, batch = 0, time.time(), []
        with self._bulk_writes():
            for row in rows:
                batch.append((*row, plan, now))
                if len(batch) >= batch_size:
                    total += self._insert(sql, batch)
                    batch = []
            return total + self._insert(sql, batch)

    @contextmanager
    def _bulk_writes(self) -> Iterator[None]:
        """A larger page cache and rarer checkpoints while many rows go in, then one checkpoint.

        Job ids are hashes, so each batch touches index pages all over the file; checkpointing every 1,000
        pages (SQLite's default) writes the same pages back again and again. Planning a million jobs took 1.3x a
        plain hash-and-insert loop with the defaults and 1.00x-1.10x with these (``bench/bench_planning.py``).
        Durability is unchanged: every batch is still its own committed transaction.
        """
        saved = {name: int(self.conn.execute(f"PRAGMA {name}").fetchone()[0]) for name in _BULK_PRAGMAS}
        for name, value in _BULK_PRAGMAS.items():
            self.conn.execute(f"PRAGMA {name}={value}")
        try:
            yield
        finally:
            for name, value in saved.items():
                self.conn.execute(f"PRAGMA {name}={value}")
        if not self.conn.in_transaction:  # inside one (a caller's atomic()), its commit checkpoints
            with self._write_errors():
                self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _insert(self, sql: str, batch: list[tuple[Any, ...]]) -> int:
        with self.atomic():
            self.conn.executemany(sql, batch)
        return len(batch)

    # -- execution ----------------------------------------------------------------------------------

    def reset_running(self, max_interrupts: int) -> list[str]:
        """Jobs left ``running`` by a runner that died: each was interrupted, which counts an attempt. They go
        back to ``pending``, or, interrupted ``max_interrupts`` times, are quarantined (failed, skipped on
        resume) as possibly crashing the runner; returns the ids of those quarantined now."""
        with self.atomic():
            self.conn.execute(
                "UPDATE jobs SET status = 'pending', attempts = attempts + 1, interrupts = interrupts + 1 "
                "WHERE status = 'running'"
            )
            rows = self.conn.execute(
                "SELECT job_id, interrupts FROM jobs WHERE status = 'pending' AND interrupts >= ?", (max_interrupts,)
            ).fetchall()
            for job_id, interrupts in rows:
                message = (
                    f"interrupted {interrupts} times (the runner died while it ran): it may be crashing the runner"
                )
                self.conn.execute(
                    "UPDATE jobs SET status = 'failed', error = ?, error_type = ?, finished_at = ? WHERE job_id = ?",
                    (message, QUARANTINED, time.time(), job_id),
                )
        return [row[0] for row in rows]

    def release_quarantined(self) -> int:
        """Quarantined jobs back to pending with their interrupts forgotten (``run.retry_failed=true``)."""
        with self.atomic():
            return self.conn.execute(
                "UPDATE jobs SET status = 'pending', interrupts = 0 WHERE status = 'failed' AND error_type = ?",
                (QUARANTINED,),
            ).rowcount

    def quarantined(self, plan: int | None = None) -> list[dict[str, Any]]:
        """Jobs quarantined as possibly crashing the runner (of ``plan``, or of any plan)."""
        where = "status = 'failed' AND error_type = ?" + ("" if plan is None else " AND plan = ?")
        args = (QUARANTINED,) if plan is None else (QUARANTINED, plan)
        sql = f"SELECT job_id, error, attempts, interrupts FROM jobs WHERE {where} ORDER BY plan, seq"
        return [dict(row) for row in self.conn.execute(sql, args)]

    def done_outputs(self, plan: int) -> Iterator[tuple[str, str | None, str | None]]:
        """``(job_id, output, sha256)`` of the plan's done jobs."""
        sql = "SELECT job_id, output, sha256 FROM jobs WHERE plan = ? AND status = 'done'"
        for row in self.conn.execute(sql, (plan,)).fetchall():
            yield tuple(row)

    def mark_redo(self, job_ids: Iterable[str]) -> int:
        ids = [(job_id,) for job_id in job_ids]
        with self.atomic():
            self.conn.executemany(
                "UPDATE jobs SET status = 'pending', output = NULL, sha256 = NULL WHERE job_id = ?", ids
            )
        return len(ids)

    def todo(self, plan: int, group_key: str, page: int = 500) -> Iterator[sqlite3.Row]:
        """The plan's jobs of one backend group not done yet (less the quarantined), in the order they were
        first planned.

        Read a page at a time along the rowid (no extra index to maintain while planning a million
        jobs), so that the caller may update jobs in between.
        """
        sql = (
            "SELECT rowid, job_id, group_key, task, params, inputs, interrupts FROM jobs "
            "WHERE rowid > ? AND plan = ? AND group_key = ? AND status != 'done' "
            "AND NOT (status = 'failed' AND error_type IS ?) ORDER BY rowid LIMIT ?"
        )
        after = 0
        while True:
            rows = self.conn.execute(sql, (after, plan, group_key, QUARANTINED, page)).fetchall()
            yield from rows
            if len(rows) < page:
                return
            after = rows[-1]["rowid"]

    def count_plan(self, plan: int) -> int:
        return int(self.conn.execute("SELECT count(*) FROM jobs WHERE plan = ?", (plan,)).fetchone()[0])

    def count_todo(self, plan: int, group_key: str | None = None) -> int:
        """The plan's jobs (of one group, if given) not done yet, less the quarantined."""
        sql = (
            "SELECT count(*) FROM jobs WHERE plan = ? AND status != 'done' "
            "AND NOT (status = 'failed' AND error_type IS ?)"
        )
        if group_key is None:
            return int(self.conn.execute(sql, (plan, QUARANTINED)).fetchone()[0])
        return int(self.conn.execute(f"{sql} AND group_key = ?", (plan, QUARANTINED, group_key)).fetchone()[0])

    def mark_running(self, job_id: str) -> None:
        with self.atomic():
            self.conn.execute(
                "UPDATE jobs SET status = 'running', started_at = ?, error = NULL, error_type = NULL WHERE job_id = ?",
                (time.time(), job_id),
            )

    def mark_done(self, job_id: str, output: str, sha256: str, attempts: int, timings: dict[str, Any]) -> None:
        """Record the output (already written) and mark the job done, in one transaction."""
        with self.atomic():
            self.conn.execute(
                "UPDATE jobs SET status = 'done', output = ?, sha256 = ?, attempts = attempts + ?, finished_at = ?, "
                "duration_s = ?, load_s = ?, generate_s = ? WHERE job_id = ?",
                (output, sha256, attempts, time.time(), *_timings(timings), job_id),
            )

    def mark_failed(self, job_id: str, error: BaseException, attempts: int, duration_s: float) -> None:
        self._record_error("failed", job_id, error, attempts, duration_s)

    def mark_pending(self, job_id: str, error: BaseException, attempts: int, duration_s: float) -> None:
        """Back to pending, with the error that stopped its group (not the job's fault) and its attempts."""
        self._record_error("pending", job_id, error, attempts, duration_s)

    def release(self, job_ids: list[str]) -> None:
        """Jobs back to pending (their error and attempts kept), not by their fault: their group stopped, or
        Ctrl-C took them back from a worker before they ran."""
        with self.atomic():
            self.conn.executemany("UPDATE jobs SET status = 'pending' WHERE job_id = ?", [(j,) for j in job_ids])

    def _record_error(self, status: str, job_id: str, error: BaseException, attempts: int, duration_s: float) -> None:
        with self.atomic():
            self.conn.execute(
                "UPDATE jobs SET status = ?, error = ?, error_type = ?, attempts = attempts + ?, "
                "finished_at = ?, duration_s = ? WHERE job_id = ?",
                (status, str(error) or repr(error), type(error).__name__, attempts, time.time(), duration_s, job_id),
            )

    def record_verification(self, host: str, environment: Mapping[str, Any], tolerance: int,
                            results: list[dict[str, Any]]) -> None:  # fmt: skip
        """Record a ``verify``: where it ran (machine, library versions, threads) and each job's result."""
        mismatched = sum(1 for result in results if not result["ok"])
        with self.atomic():
            self.conn.execute(
                "INSERT INTO verifications VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time.time(), host, json.dumps(environment, sort_keys=True), tolerance, len(results), mismatched,
                 json.dumps(results, sort_keys=True)),
            )  # fmt: skip

    # -- reading --------------------------------------------------------------------------------------

    def counts(self, plan: int | None = None) -> dict[str, int]:
        """Jobs by status (of ``plan``, or of any plan), plus ``total``."""
        where, args = ("WHERE plan = ?", (plan,)) if plan is not None else ("", ())
        counts = dict.fromkeys(STATUSES, 0)
        for status, count in self.conn.execute(f"SELECT status, count(*) FROM jobs {where} GROUP BY status", args):
            counts[status] = count
        return {"total": sum(counts.values()), **counts}

    def latest_plan(self) -> int | None:
        """The plan of the last command run here (its jobs are the ones that command asked for)."""
        return self.conn.execute("SELECT max(plan) FROM plans").fetchone()[0]

    def failures(self, limit: int = 20, plan: int | None = None) -> list[dict[str, Any]]:
        """Failed jobs (of ``plan``, or of any plan) with their last error."""
        where = "status = 'failed'" + ("" if plan is None else " AND plan = ?")
        sql = f"SELECT job_id, error_type, error, attempts FROM jobs WHERE {where} ORDER BY plan, seq LIMIT ?"
        return [dict(row) for row in self.conn.execute(sql, (limit,) if plan is None else (plan, limit))]

    def throughput(self) -> dict[str, float | None]:
        """Seconds during which done jobs ran (the union of their start-to-finish spans: the time between two
        commands in the same folder does not count), jobs per second over it, and the mean job time."""
        sql = (
            "SELECT started_at, finished_at, duration_s FROM jobs WHERE status = 'done' "
            "AND started_at IS NOT NULL AND finished_at IS NOT NULL ORDER BY started_at"
        )
        rows = self.conn.execute(sql).fetchall()
        busy, end = 0.0, float("-inf")
        for started, finished, _ in rows:
            busy += max(0.0, finished - max(started, end))  # the part not already covered
            end = max(end, finished)
        durations = [row[2] for row in rows if row[2] is not None]
        return {
            "elapsed_s": busy if rows else None,
            "jobs_per_s": len(rows) / busy if busy else None,
            "mean_job_s": sum(durations) / len(durations) if durations else None,
        }

    def records(
        self, status: str | None = None, where: Mapping[str, Any] | None = None, plan: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Jobs in plan order as dicts, ``params``, ``inputs`` and ``labels`` decoded; only ``status`` ones (of
        ``plan``) if given, and only those whose fields (see ``fields()``) equal ``where``'s values. Streamed."""
        sql, args = _selection(status, where, self._labels(), plan)
        for row in self.conn.execute(f"SELECT * FROM jobs {sql} ORDER BY plan, seq", args):
            record = dict(row)
            record["params"] = json.loads(record["params"])
            record["inputs"] = json.loads(record["inputs"]) if record["inputs"] else {}
            record["labels"] = json.loads(record["labels"]) if record.get("labels") else {}
            yield record

    def sample(self, n: int, status: str = "done") -> list[dict[str, Any]]:
        """``n`` jobs of ``status``, those with the smallest ids: ids are hashes, so this is a uniform sample
        that is the same every time and needs no list of all jobs in memory."""
        rows = self.conn.execute("SELECT job_id FROM jobs WHERE status = ? ORDER BY job_id LIMIT ?", (status, n))
        ids = [row[0] for row in rows]
        return [record for job_id in ids for record in self.records(status, {"job_id": job_id})]

    def groups(self) -> dict[str, dict[str, Any]]:
        """The recorded backend groups by key: backend, model name and options (secrets redacted)."""
        rows = self.conn.execute("SELECT group_key, backend, model, options FROM groups")
        return {r[0]: {"backend": r[1], "model": r[2], "options": json.loads(r[3] or "{}")} for r in rows}

    def plan_configs(self) -> Iterator[dict[str, Any]]:
        """The recorded config of every plan, newest first."""
        for (config,) in self.conn.execute("SELECT config FROM plans ORDER BY plan DESC"):
            yield json.loads(config)

    def count(self, status: str | None = None, where: Mapping[str, Any] | None = None) -> int:
        """How many jobs ``records(status, where)`` yields."""
        sql, args = _selection(status, where, self._labels())
        return int(self.conn.execute(f"SELECT count(*) FROM jobs {sql}", args).fetchone()[0])

    def fields(self, status: str | None = None) -> dict[str, dict[str, set[str]]]:
        """The JSON types (``integer``, ``real``, ``text``, ...) of every parameter and label of the jobs,
        as ``{"params": {key: types}, "labels": {key: types}}``: computed in SQLite, not in memory."""
        sql, args = _selection(status, None, self._labels())
        found: dict[str, dict[str, set[str]]] = {"params": {}, "labels": {}}
        for kind, column, path in (("params", "jobs.params", "'$.params'"), ("labels", self._labels(), "'$'")):
            query = f"SELECT DISTINCT each.key, each.type FROM jobs, json_each({column}, {path}) AS each {sql}"
            for key, json_type in self.conn.execute(query, args):
                found[kind].setdefault(key, set()).add(json_type)
        return found

    def _labels(self) -> str:
        """The labels column, or ``NULL`` in a run made before labels (opened read-only, so not migrated)."""
        columns = {row[1] for row in self.conn.execute("PRAGMA table_info(jobs)")}
        return "jobs.labels" if "labels" in columns else "NULL"

    def export_jsonl(self, path: str | Path) -> int:
        """Every job as one JSON object per line (``params`` and ``inputs`` decoded); returns the count."""
        count = 0
        with open(path, "w", encoding="utf-8") as handle:
            for record in self.records():
                handle.write(json.dumps(record, sort_keys=True) + "\n")
                count += 1
        return count


def damaged(path: str | Path, reason: str) -> ManifestDamagedError:
    """The error for a run's manifest that SQLite cannot read: nothing changed, and the way out."""
    return ManifestDamagedError(
        f"{path} is damaged ({reason}); nothing was changed, and it is never recreated over the run. "
        f"The outputs beside it are kept. Way out: {ManifestDamagedError.advice}"
    )


def _corrupt(error: sqlite3.DatabaseError) -> bool:
    """SQLite says the file is damaged (SQLITE_CORRUPT), not that it is some other file."""
    code = getattr(error, "sqlite_errorcode", None)  # Python 3.11+
    return code == sqlite3.SQLITE_CORRUPT if code is not None else "malformed" in str(error)


JOB_FIELDS = ("job_id", "backend", "model", "task", "seed")


def _selection(
    status: str | None, where: Mapping[str, Any] | None, labels: str, plan: int | None = None
) -> tuple[str, tuple[Any, ...]]:
    """A ``WHERE`` clause for a status and field equalities (a job column, else a parameter, else a label;
    the planner refuses a label named like a parameter)."""
    clauses, args = (["jobs.status = ?"], [status]) if status else ([], [])
    if plan is not None:
        clauses.append("jobs.plan = ?")
        args.append(plan)
    for key, value in (where or {}).items():
        if key in JOB_FIELDS:
            clauses.append(f"jobs.{key} = ?")
        else:
            clauses.append(f"coalesce(json_extract(jobs.params, ?), json_extract({labels}, ?)) = ?")
            args.extend((_json_path(key, "$.params"), _json_path(key)))
        args.append(value)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", tuple(args)


def _json_path(key: str, root: str = "$") -> str:
    return f"{root}.{json.dumps(key)}"


def _timings(timings: dict[str, Any]) -> tuple[Any, Any, Any]:
    return timings.get("duration_s"), timings.get("load_s"), timings.get("generate_s")

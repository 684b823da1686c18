"""Prompt files: rows of job parameters from txt (one prompt per line), jsonl (one object per line) or csv.

A csv file's header names the parameters; its cells are typed like YAML scalars (``7.5`` is a number)
and an empty cell means "not set" (the default). Blank lines and ``#`` comment lines of a txt file are
skipped.

A column named ``label.<name>`` (csv header or jsonl key) is a *label*: it travels to the manifest and
the exports but never into the request or the job id. A label named like a parameter or a job field is
refused: both would land in the same export column.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import yaml

from ..errors import InvalidParameterError
from ..tasks import PARAMS

FIELD = "sweep.file"
LABEL_PREFIX = "label."
RESERVED = ("job_id", "backend", "model", "task", "file_name", "status")


def read_prompt_file(path: str | Path) -> list[dict[str, Any]]:
    """The rows of parameters in ``path``; raises naming ``sweep.file`` if it is missing or malformed."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidParameterError(FIELD, f"prompt file {str(file)!r} does not exist; check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidParameterError(FIELD, f"cannot read prompt file {str(file)!r}: {exc}") from None
    suffix = file.suffix.lower()
    if suffix == ".jsonl":
        rows = _jsonl_rows(file, text)
    elif suffix == ".csv":
        rows = _csv_rows(text)
    elif suffix == ".txt":
        rows = [{"prompt": line.strip()} for line in text.splitlines() if line.strip() and not line.startswith("#")]
    else:
        raise InvalidParameterError(FIELD, f"unknown prompt file type {file.suffix!r}; use .txt, .jsonl or .csv")
    if not rows:
        raise InvalidParameterError(FIELD, f"prompt file {str(file)!r} holds no rows; add at least one")
    return rows


def split_labels(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(parameters, labels)`` of each row: ``label.<name>`` columns become label ``<name>``."""
    params, labels = [], []
    for row in rows:
        params.append({k: v for k, v in row.items() if not k.startswith(LABEL_PREFIX)})
        found = {k.removeprefix(LABEL_PREFIX): v for k, v in row.items() if k.startswith(LABEL_PREFIX)}
        for name in found:
            if name in PARAMS or name in RESERVED or not name:
                raise InvalidParameterError(
                    FIELD,
                    f"label column {LABEL_PREFIX + name!r} clashes with the field {name!r} of every job "
                    "(they would share an export column); rename the label",
                )
        labels.append({k: v for k, v in found.items() if v is not None})
    return params, labels


def _jsonl_rows(file: Path, text: str) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidParameterError(FIELD, f"{file}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise InvalidParameterError(FIELD, f"{file}:{number}: each line must be a JSON object of parameters")
        rows.append(row)
    return rows


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(text.splitlines())
    return [{key.strip(): parse_cell(value) for key, value in row.items() if value not in (None, "")} for row in reader]


def parse_cell(value: str) -> Any:
    """A csv cell (or a `--where` value) typed like a YAML number, else kept as text."""
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    return parsed if isinstance(parsed, (int, float)) and not isinstance(parsed, bool) else value

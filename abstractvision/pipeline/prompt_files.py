"""Prompt files: rows of job parameters from txt (one prompt per line), jsonl (one object per line) or csv.

A csv file's header names the parameters; its cells are typed like YAML scalars (``7.5`` is a number)
and an empty cell means "not set" (the default). Blank lines and ``#`` comment lines of a txt file are
skipped.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import yaml

from ..errors import InvalidParameterError

FIELD = "sweep.file"


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
    return [{key.strip(): _cell(value) for key, value in row.items() if value not in (None, "")} for row in reader]


def _cell(value: str) -> Any:
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    return parsed if isinstance(parsed, (int, float)) and not isinstance(parsed, bool) else value

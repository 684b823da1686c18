"""The failure policy is read from the error classes: each has a scope and advice, and the docs list every one."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from abstractvision import errors
from abstractvision.attempts import current_budget, job_attempts
from abstractvision.errors import BackendResponseError, Scope, scope_of

CLASSES = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.AbstractVisionError)]


@pytest.mark.parametrize(
    ("status", "scope"),
    [(400, Scope.JOB), (422, Scope.JOB), (401, Scope.GROUP), (403, Scope.GROUP), (404, Scope.GROUP),
     (429, Scope.RETRY), (500, Scope.RETRY), (503, Scope.RETRY)],
)  # fmt: skip
def test_a_server_answer_is_classified_by_its_status(status: int, scope: Scope) -> None:
    error = BackendResponseError("x", status_code=status)
    assert scope_of(error) is scope and error.retryable is (scope is Scope.RETRY)
    assert ("to retry" in error.advice) is (scope is Scope.RETRY)


def test_only_retryable_errors_advise_a_retry() -> None:
    for cls in CLASSES:
        if isinstance(cls.advice, str) and "again to retry" in cls.advice:  # (not a property of the instance)
            assert cls.scope is Scope.RETRY, cls
    assert scope_of(RuntimeError("a bug")) is Scope.JOB


def test_every_error_class_is_in_the_troubleshooting_guide() -> None:
    guide = (Path(__file__).parents[2] / "docs" / "troubleshooting.md").read_text()
    missing = [
        cls.__name__ for cls in CLASSES if cls is not errors.AbstractVisionError and f"`{cls.__name__}`" not in guide
    ]
    assert missing == []


def test_the_attempt_budget_is_shared_and_scoped_to_the_job() -> None:
    assert current_budget() is None
    with job_attempts(3) as budget:
        assert current_budget() is budget
        assert [budget.start() for _ in range(4)] == [True, True, True, False]
        assert budget.exhausted and budget.used == 3
    assert current_budget() is None

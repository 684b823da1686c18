"""Errors cross processes (spawned workers, Ray actors) by pickle: every field survives, whatever the
constructor's arguments were."""

from __future__ import annotations

import pickle

from abstractvision.errors import BackendResponseError, InvalidParameterError, WorkerCrashedError, is_retryable
from abstractvision.pipeline.worker import JobFailed


def test_errors_pickle_with_their_fields_and_class() -> None:
    for error in (
        InvalidParameterError("width", "must be a multiple of 8", backend="diffusers"),
        BackendResponseError("server said 503", status_code=503, model="tiny-sd"),
        WorkerCrashedError("a worker died twice", job_id="abc"),
    ):
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and str(again) == str(error) and vars(again) == vars(error)
    assert is_retryable(pickle.loads(pickle.dumps(BackendResponseError("busy", status_code=429))))


def test_job_failed_pickles_with_its_error_and_attempts() -> None:
    again = pickle.loads(pickle.dumps(JobFailed(InvalidParameterError("steps", "must be >= 1"), 3)))
    assert again.attempts == 3 and isinstance(again.error, InvalidParameterError) and again.error.field == "steps"

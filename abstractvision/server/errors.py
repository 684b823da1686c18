"""OpenAI-shaped error answers: ``{"error": {"message", "type", "param", "code"}}``.

AbstractVision errors map to HTTP statuses here, in one table, so every route answers alike.
"""

from __future__ import annotations

import logging
from typing import Any

from ..errors import (
    AbstractVisionError,
    BackendConnectionError,
    BackendResponseError,
    BackendTimeoutError,
    CapabilityNotSupportedError,
    InvalidParameterError,
    ModelNotFoundError,
    ResourceExhaustedError,
)

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answer the server gives on purpose."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def invalid(param: str, message: str) -> ApiError:
    """400 naming the request field that is wrong."""
    return ApiError(400, f"`{param}`: {message}", param=param, code="invalid_value")


def from_library_error(error: AbstractVisionError) -> ApiError:
    """The answer for an error raised by validation or by the backend."""
    message = error.message
    if isinstance(error, InvalidParameterError):
        return ApiError(400, message, param=error.field, code="invalid_value")
    if isinstance(error, CapabilityNotSupportedError):
        return ApiError(400, message, code="unsupported_task")
    if isinstance(error, ModelNotFoundError):
        return ApiError(404, message, code="model_not_found")
    if isinstance(error, ResourceExhaustedError):
        return ApiError(503, message, type="server_error", code="resource_exhausted")
    if isinstance(error, BackendTimeoutError):
        return ApiError(504, message, type="server_error", code="upstream_timeout")
    if isinstance(error, BackendResponseError) and error.status_code == 429:
        return ApiError(429, message, type="server_error", code="upstream_rate_limited", headers={"Retry-After": "1"})
    if isinstance(error, (BackendConnectionError, BackendResponseError)):
        return ApiError(502, message, type="server_error", code="upstream_error")
    logger.error("generation failed: %s", message)
    return ApiError(500, message, type="server_error", code=type(error).__name__)

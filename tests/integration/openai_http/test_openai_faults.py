"""The HTTP backend against a real server that misbehaves: each fault ends in a retry that succeeds or a
typed error within its timeout, and the API key appears in no message, log line or metadata."""

from __future__ import annotations

import base64
import json
import logging
import time

import pytest
from fault_server import FaultServer, Reply, png_bytes

from abstractvision import (
    BackendConnectionError,
    BackendResponseError,
    BackendTimeoutError,
    GenerationError,
    VisionManager,
)
from abstractvision.backends.factory import create_backend
from abstractvision.errors import is_retryable

KEY = "sk-fault-test-0123456789abcdef"
GENERATIONS = "/v1/images/generations"


def ok(seed: int | None = None) -> Reply:
    item = {"b64_json": base64.b64encode(png_bytes()).decode()}
    if seed is not None:
        item["seed"] = seed
    return Reply(json={"created": 1, "data": [item]})


def manager(server: FaultServer, **options: object) -> VisionManager:
    options = {"base_url": server.base_url, "api_key": KEY, "backoff_s": 0.01, "max_retries": 2, **options}
    return VisionManager(create_backend("openai", None, options))


def assert_no_secret(error: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    assert KEY not in str(error)
    assert KEY not in repr(error.args)
    assert KEY not in caplog.text


def test_500_then_success_retries_and_sends_the_key_only_in_the_header(fault_server, caplog):
    caplog.set_level(logging.WARNING)
    fault_server.script("POST", GENERATIONS, Reply(500, json={"error": {"message": "warming up"}}), ok())
    asset = manager(fault_server).generate_image("a red fox", seed=7)
    assert asset.mime_type == "image/png"
    assert len(fault_server.received) == 2
    assert all(r.headers["Authorization"] == f"Bearer {KEY}" for r in fault_server.received)
    assert "warming up" in caplog.text and "retry 1/2" in caplog.text
    assert KEY not in caplog.text
    assert KEY not in json.dumps(asset.metadata)
    assert asset.metadata["sent"]["seed"] == 7


def test_429_waits_for_retry_after(fault_server, caplog):
    fault_server.script(
        "POST", GENERATIONS, Reply(429, json={"error": {"message": "slow down"}}, headers={"Retry-After": "1"}), ok()
    )
    started = time.monotonic()
    manager(fault_server).generate_image("a red fox")
    assert time.monotonic() - started >= 0.95  # backoff_s is 0.01: only Retry-After explains the wait
    assert len(fault_server.received) == 2


def test_persistent_5xx_ends_in_a_typed_error_with_the_server_message(fault_server, caplog):
    fault_server.script("POST", GENERATIONS, Reply(503, json={"error": "server_error", "message": "GPU on fire"}))
    with pytest.raises(BackendResponseError) as info:
        manager(fault_server).generate_image("a red fox")
    assert info.value.status_code == 503 and is_retryable(info.value)
    assert "GPU on fire" in str(info.value) and "HTTP 503" in str(info.value)
    assert len(fault_server.received) == 3  # first attempt + max_retries
    assert_no_secret(info.value, caplog)


def test_4xx_is_not_retried_and_an_echoed_key_is_scrubbed(fault_server, caplog):
    fault_server.script("POST", GENERATIONS, Reply(400, json={"error": f"bad request from Bearer {KEY}"}))
    with pytest.raises(BackendResponseError) as info:
        manager(fault_server).generate_image("a red fox")
    assert info.value.status_code == 400 and not is_retryable(info.value)
    assert "bad request from Bearer ***" in str(info.value)
    assert len(fault_server.received) == 1
    assert_no_secret(info.value, caplog)


def test_slower_than_the_timeout_raises_a_timeout_in_time(fault_server, caplog):
    fault_server.script("POST", GENERATIONS, Reply(json={"data": []}, delay_s=5))
    started = time.monotonic()
    with pytest.raises(BackendTimeoutError) as info:
        manager(fault_server, timeout_s=0.5).generate_image("a red fox")
    assert time.monotonic() - started < 2.5
    assert "0.5 s" in str(info.value) and "backend.timeout_s" in str(info.value)
    assert_no_secret(info.value, caplog)


def test_truncated_body_is_retried_then_succeeds(fault_server):
    fault_server.script("POST", GENERATIONS, Reply(json={"data": [{"b64_json": "A" * 400}]}, truncate=True), ok())
    assert manager(fault_server).generate_image("a red fox").mime_type == "image/png"
    assert len(fault_server.received) == 2


def test_always_truncated_body_ends_in_a_connection_error(fault_server, caplog):
    fault_server.script("POST", GENERATIONS, Reply(json={"data": [{"b64_json": "A" * 400}]}, truncate=True))
    with pytest.raises(BackendConnectionError) as info:
        manager(fault_server).generate_image("a red fox")
    assert "cut short" in str(info.value)
    assert_no_secret(info.value, caplog)


def test_invalid_json_is_a_clear_permanent_error(fault_server, caplog):
    fault_server.script("POST", GENERATIONS, Reply(body=b'{"data": [', content_type="application/json"))
    with pytest.raises(BackendResponseError) as info:
        manager(fault_server).generate_image("a red fox")
    assert "not valid JSON" in str(info.value) and not is_retryable(info.value)
    assert len(fault_server.received) == 1
    assert_no_secret(info.value, caplog)


def test_wrong_content_type_names_what_came_and_the_likely_fix(fault_server, caplog):
    fault_server.script("POST", GENERATIONS, Reply(body=b"<html>login</html>", content_type="text/html"))
    with pytest.raises(BackendResponseError) as info:
        manager(fault_server).generate_image("a red fox")
    assert "text/html" in str(info.value) and "backend.base_url" in str(info.value)
    assert_no_secret(info.value, caplog)


def test_bytes_that_are_not_an_image_are_refused(fault_server, caplog):
    payload = base64.b64encode(b"definitely not a picture").decode()
    fault_server.script("POST", GENERATIONS, Reply(json={"data": [{"b64_json": payload}]}))
    with pytest.raises(BackendResponseError, match="not one of"):
        manager(fault_server).generate_image("a red fox")


def test_url_download_from_another_origin_gets_no_key(fault_server):
    other = FaultServer().start()
    try:
        other.script("GET", "/image.png", Reply(body=png_bytes(), content_type="image/png"))
        fault_server.script("POST", GENERATIONS, Reply(json={"data": [{"url": f"{other.base_url[:-3]}/image.png"}]}))
        allowed = [other.base_url.removesuffix("/v1")]
        asset = manager(fault_server, response_format="url", url_origins=allowed).generate_image("a red fox")
    finally:
        other.stop()
    assert asset.metadata["response"]["format"] == "url"
    assert fault_server.received[0].json()["response_format"] == "url"
    assert "Authorization" not in other.received[0].headers


def test_unreachable_server_is_a_connection_error_naming_the_fix(caplog):
    backend = create_backend(
        "openai", None, {"base_url": "http://127.0.0.1:9/v1", "api_key": KEY, "max_retries": 1, "backoff_s": 0.01}
    )
    with pytest.raises(BackendConnectionError) as info:
        backend.preload()
    assert "Connection refused" in str(info.value) and "backend.base_url" in str(info.value)
    assert is_retryable(info.value)
    assert_no_secret(info.value, caplog)


def test_video_job_that_never_finishes_times_out(fault_server, caplog):
    options = {"text_to_video_path": "/videos", "video_poll_interval_s": 0.1, "video_timeout_s": 0.6}
    started = time.monotonic()
    with pytest.raises(BackendTimeoutError) as info:
        manager(fault_server, **options).generate_video("never ending story")
    assert time.monotonic() - started < 3
    assert "still 'in_progress'" in str(info.value) and "backend.video_timeout_s" in str(info.value)
    assert_no_secret(info.value, caplog)


def test_video_job_that_fails_reports_the_server_reason(fault_server):
    options = {"text_to_video_path": "/videos", "video_poll_interval_s": 0.05}
    with pytest.raises(GenerationError, match="the model fell over"):
        manager(fault_server, **options).generate_video("fail please")

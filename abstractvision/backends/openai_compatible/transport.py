"""HTTP for the OpenAI-compatible backend: retries, backoff, and the one place where ``requests`` errors
become AbstractVision errors.

Connection failures (including a body cut short), 429 and 5xx are retried with exponential backoff,
honouring ``Retry-After``; after the last attempt a typed error carries the server's own message. Run
by a worker, every resend spends from the job's one attempt budget (``attempts.py``), so the runner's
and the transport's retries add up instead of multiplying; ``max_retries`` applies to library use. A
read timeout is not retried here (the server may still be generating; the runner decides). The API key
is sent only to the server's own origin and is scrubbed from every message. A body larger than
``max_response_bytes`` is refused (declared or counted while it streams), so one answer cannot exhaust memory.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from ...attempts import AttemptBudget, current_budget
from ...errors import BackendConnectionError, BackendResponseError, BackendTimeoutError, InvalidParameterError

logger = logging.getLogger(__name__)

MESSAGE_LIMIT = 300
ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")]+|timed out|Read timed out")
INCOMPLETE = re.compile(r"IncompleteRead\([^)]*\)|Response ended prematurely")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry (``max_retries`` extra attempts after the first)."""

    max_retries: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``; the server's ``Retry-After`` wins, capped."""
        wanted = retry_after if retry_after is not None else self.backoff_s * 2**attempt
        return max(0.0, min(wanted, self.max_backoff_s))


def redact_url(url: str) -> str:
    """``url`` without user info, query or fragment (where signed URLs keep their tokens)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, as allow-lists spell origins."""
    scheme, host, port = origin(url)
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either a number or an HTTP date."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if email.utils.parsedate_tz(value) else None
        return None if when is None else max(0.0, when.timestamp() - time.time())


def server_message(response: requests.Response) -> str:
    """The error text a server put in its body, whatever its error shape."""
    text = response.text.strip()
    try:
        body = json.loads(text)
    except ValueError:
        return text[:MESSAGE_LIMIT] or "(empty body)"
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping) and error.get("message"):
            return str(error["message"])[:MESSAGE_LIMIT]  # OpenAI: {"error": {"message": ...}}
        for key in ("message", "detail"):  # sd-server 500s, FastAPI
            if body.get(key):
                return str(body[key])[:MESSAGE_LIMIT]
        if error:
            return str(error)[:MESSAGE_LIMIT]  # sd-server 400s: {"error": "..."}
    return text[:MESSAGE_LIMIT]


class HttpTransport:
    """Sends requests to one server with retries; one ``requests.Session`` per thread.

    Args:
        base_url (`str`): the ``/v1``-style root every relative path is joined to.
        api_key (`str`, *optional*): sent as ``Authorization: Bearer`` to ``base_url``'s origin only.
        timeout_s (`float`): seconds to wait for the server to answer (per read).
        connect_timeout_s (`float`): seconds to wait for a connection.
        retry (`RetryPolicy`): retries on connection errors, 429 and 5xx.
        max_response_bytes (`int`): the largest body read; a larger one is a permanent error.
        url_origins (`Sequence[str]`): origins besides ``base_url``'s that ``download`` may fetch from.
        context (`dict`): ``backend``/``model`` attached to every error raised.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        timeout_s: float,
        connect_timeout_s: float,
        retry: RetryPolicy,
        max_response_bytes: int,
        url_origins: Sequence[str] = (),
        context: Mapping[str, Any],
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_response_bytes = max_response_bytes
        self.url_origins = tuple(o.rstrip("/") for o in url_origins)
        self._api_key = api_key
        self.timeout = (connect_timeout_s, timeout_s)
        self.retry = retry
        self.context = dict(context)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        """An absolute URL for ``path`` (absolute URLs pass through, relative ones join ``base_url``)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send with retries; return a response with a 2xx status and its body fully read."""
        url = self.url(path)
        what = f"{method} {redact_url(url)}"
        headers = dict(kwargs.pop("headers", None) or {})
        if self._api_key and origin(url) == origin(self.base_url):
            headers["Authorization"] = f"Bearer {self._api_key}"
        budget = current_budget()
        attempt = 0
        while True:
            try:
                return self._send(method, url, what, headers, kwargs)
            except _Failed as failed:
                if not failed.error.retryable or not self._may_retry(attempt, budget):
                    raise failed.error from failed.__cause__
                wait = self.retry.delay(attempt, failed.retry_after)
                attempt += 1
                if budget is None:
                    logger.warning("%s; retry %d/%d in %.2f s", failed.error, attempt, self.retry.max_retries, wait)
                else:  # the runner reports the job's attempts once, at its end
                    logger.info("%s; attempt %d/%d in %.2f s", failed.error, budget.used, budget.limit, wait)
                time.sleep(wait)

    def download(self, url: str) -> bytes:
        """The file a ``url`` answer points at, fetched only from the server's own origin or ``url_origins``
        (a server, or whoever tampers with its answers, must not make the client fetch arbitrary addresses)."""
        found, own = origin_of(self.url(url)), origin_of(self.base_url)
        if found != own and found not in self.url_origins:
            raise InvalidParameterError(
                "backend.url_origins",
                f"the server answered a URL on {found}, which is neither its own origin ({own}) nor allowed; "
                f"add {found!r} to backend.url_origins if you trust it",
                **self.context,
            )
        return self.request("GET", url).content

    def _may_retry(self, attempt: int, budget: AttemptBudget | None) -> bool:
        """Another attempt: from the job's shared budget when a worker runs this, else from ``max_retries``."""
        return budget.start() if budget is not None else attempt < self.retry.max_retries

    def close(self) -> None:
        """Close the connections of every thread's session."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
            self._local = threading.local()
        for session in sessions:
            session.close()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            with self._lock:
                self._sessions.append(session)
        return session

    def _send(
        self, method: str, url: str, what: str, headers: dict[str, str], kwargs: dict[str, Any]
    ) -> requests.Response:
        try:
            response = self._session().request(
                method, url, headers=headers, timeout=self.timeout, stream=True, **kwargs
            )
            self._read_limited(response, what)
        except requests.exceptions.ReadTimeout as exc:
            raise BackendTimeoutError(
                self._scrub(f"{what}: no answer within {self.timeout[1]} s; raise backend.timeout_s if it is slow"),
                **self.context,
            ) from exc
        except requests.exceptions.ChunkedEncodingError as exc:
            message = f"{what}: the response body was cut short ({_reason(exc)})"
            raise _Failed(self._connection_error(message)) from exc
        except requests.exceptions.ConnectionError as exc:  # includes ConnectTimeout
            message = f"{what}: cannot reach the server ({_reason(exc)}); check backend.base_url"
            raise _Failed(self._connection_error(message)) from exc
        except requests.exceptions.RequestException as exc:
            raise BackendConnectionError(self._scrub(f"{what}: request failed ({exc})"), **self.context) from exc
        if response.ok:
            return response
        message = self._scrub(f"{what}: server answered HTTP {response.status_code}: {server_message(response)}")
        error = BackendResponseError(message, status_code=response.status_code, **self.context)
        raise _Failed(error, parse_retry_after(response.headers.get("Retry-After")))

    def _read_limited(self, response: requests.Response, what: str) -> None:
        """Read the body into ``response`` (what ``requests`` does unstreamed), refusing one over the limit."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            raise self._too_large(response, what)
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=1 << 16):  # decoded bytes: a gzip bomb counts in full
            size += len(chunk)
            if size > self.max_response_bytes:
                raise self._too_large(response, what)
            chunks.append(chunk)
        response._content = b"".join(chunks)  # so .content, .text and .json() answer as usual

    def _too_large(self, response: requests.Response, what: str) -> BackendResponseError:
        response.close()
        return BackendResponseError(
            self._scrub(
                f"{what}: the answer is larger than {self.max_response_bytes} bytes; raise backend.max_response_mb "
                "if the server sends files that large"
            ),
            status_code=response.status_code,
            **self.context,
        )

    def _connection_error(self, message: str) -> BackendConnectionError:
        return BackendConnectionError(self._scrub(message), **self.context)

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text


def _reason(exc: Exception) -> str:
    """The useful end of a ``requests`` error ("[Errno 111] Connection refused", "IncompleteRead(...)")."""
    text = str(exc)
    match = ERRNO.search(text) or INCOMPLETE.search(text)
    return match.group(0) if match else text[:MESSAGE_LIMIT]


class _Failed(Exception):
    """Internal: one failed attempt, with the error to raise if it is the last."""

    def __init__(self, error: BackendConnectionError | BackendResponseError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after

"""``abstractvision serve``: serve a backend and model over OpenAI-compatible HTTP routes."""

from __future__ import annotations

import argparse
import os
import socket

from ..backends.base_backend import VisionBackend
from ..errors import BackendUnavailableError, InvalidParameterError
from .generate import parse_options

API_KEY_ENV = "ABSTRACTVISION_API_KEY"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve a model over OpenAI-compatible HTTP routes (/v1/images/generations, ...)",
        description="Serve one backend and model over OpenAI-shaped routes: GET /v1/models, "
        "POST /v1/images/generations, POST /v1/images/edits, the video routes when the backend makes video, "
        "and GET /health. Prints the address once it listens. The backend and model come from --backend, "
        "--model and --option, or from config overrides as for `abstractvision run` "
        "(backend=openai backend.base_url=... model=sd-turbo).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 = any free port)")
    parser.add_argument(
        "--api-key",
        default=None,
        help=f"require `Authorization: Bearer KEY` on /v1 routes (default: ${API_KEY_ENV} if set, else no auth)",
    )
    parser.add_argument("--backend", default=None, help="diffusers, sdcpp or openai (default: diffusers)")
    parser.add_argument(
        "--model", default=None, help="registry name, Hugging Face id or local folder (default: tiny-sd)"
    )
    parser.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE", help="backend option (repeatable)"
    )
    parser.add_argument(
        "--config-dir", "-cd", action="append", default=[], help="extra config folder (repeatable), after ./conf"
    )
    parser.add_argument(
        "--max-concurrent", type=int, default=1, help="generations at a time (default: 1; >1 for HTTP backends only)"
    )
    parser.add_argument("--max-waiting", type=int, default=32, help="queued requests before answering 429")
    parser.add_argument("--max-upload-mb", type=float, default=25.0, help="largest request body (default: 25)")
    parser.add_argument("--log-level", default="warning", help="uvicorn log level (default: warning)")
    parser.set_defaults(func=run, accepts_extra=True)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..server.app import create_app
    except ImportError as exc:
        raise BackendUnavailableError(
            f"`abstractvision serve` needs the server extra ({exc.name} is missing): "
            "pip install 'abstractvision[server]'"
        ) from exc
    if args.max_upload_mb <= 0:
        raise InvalidParameterError("--max-upload-mb", f"must be > 0, got {args.max_upload_mb}")
    backend, model_id = backend_and_model(args)
    app = create_app(
        backend,
        model_id=model_id,
        api_key=args.api_key or os.environ.get(API_KEY_ENV) or None,
        max_concurrent=args.max_concurrent,
        max_waiting=args.max_waiting,
        max_upload_bytes=int(args.max_upload_mb * 2**20),
    )
    try:  # before the model loads: a busy port is known in a second, not after minutes of loading
        sock = socket.create_server((args.host, args.port))
    except OSError as exc:
        raise InvalidParameterError("--port", f"cannot listen on {args.host}:{args.port} ({exc.strerror})") from exc
    except OverflowError as exc:  # a port outside 0-65535
        raise InvalidParameterError("--port", f"must be in 0-65535, got {args.port}") from exc
    with sock, backend:
        backend.preload()
        host, port = sock.getsockname()[:2]
        print(f"abstractvision serve: {model_id} ({backend.name}) on http://{host}:{port}/v1", flush=True)
        uvicorn.Server(uvicorn.Config(app, log_level=args.log_level)).run(sockets=[sock])
    return 0


def backend_and_model(args: argparse.Namespace) -> tuple[VisionBackend, str]:
    """The backend to serve and the model name clients use, from the flags or from config overrides."""
    from ..backends.factory import create_backend
    from ..config_dirs import user_config_dirs
    from ..registry import ModelRegistry, resolve_model

    overrides = list(args.extra)
    if not overrides:
        model = args.model or "tiny-sd"
        spec = resolve_model(model, ModelRegistry(user_config_dirs(args.config_dir)))  # ./conf and --config-dir too
        return create_backend(args.backend or "diffusers", spec, parse_options(args.option)), model
    flags = [o for o in overrides if o.startswith("-")]
    if flags:
        raise InvalidParameterError(flags[0], "unknown option of `abstractvision serve`; see its --help")
    given = [
        flag
        for flag, value in (("--backend", args.backend), ("--model", args.model), ("--option", args.option))
        if value
    ]
    if given:
        raise InvalidParameterError(
            given[0], "give the backend and model either as flags or as overrides (backend=..., model=...), not both"
        )
    from ..pipeline.compose import load_run_config

    combinations = load_run_config(overrides, user_config_dirs(args.config_dir)).combinations
    if len(combinations) != 1:
        raise InvalidParameterError("model", "a server serves one backend and one model; give one option per group")
    chosen = combinations[0]
    backend = create_backend(chosen.backend, chosen.model, dict(chosen.backend_options))
    return backend, chosen.model.name

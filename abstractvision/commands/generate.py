"""``abstractvision generate PROMPT --out FILE``: one picture, no config files."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InvalidParameterError
from ..outputs.files import write_atomic


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="generate one image from a prompt (tiny-sd by default)",
        description="Generate one image. With --image it edits that image (image to image); "
        "with --image and --mask it inpaints the white area of the mask.",
    )
    parser.add_argument("prompt", help="what to draw")
    parser.add_argument("--out", "-o", type=Path, default=Path("out.png"), help="output file (default: out.png)")
    parser.add_argument("--model", default="tiny-sd", help="registry name, Hugging Face id or local folder")
    parser.add_argument("--backend", default="diffusers", help="diffusers, sdcpp or openai (default: diffusers)")
    parser.add_argument("--negative-prompt", default=None)
    parser.add_argument("--seed", type=int, default=None, help="default: random, recorded in the file")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--guidance-scale", type=float, default=None)
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--height", type=int, default=None)
    parser.add_argument("--image", type=Path, default=None, help="input image: image to image")
    parser.add_argument("--mask", type=Path, default=None, help="mask for --image (white = repaint): inpainting")
    parser.add_argument("--strength", type=float, default=None, help="how much of --image to change, in (0, 1]")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="backend option, e.g. --option device=cpu --option dtype=float32 (repeatable)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..backends.factory import create_backend
    from ..vision_manager import VisionManager

    params = {
        "negative_prompt": args.negative_prompt,
        "seed": args.seed,
        "steps": args.steps,
        "guidance_scale": args.guidance_scale,
        "width": args.width,
        "height": args.height,
    }
    params = {k: v for k, v in params.items() if v is not None}
    if args.mask is not None and args.image is None:
        raise InvalidParameterError("--mask", "needs --image (the mask marks what to repaint in that image)")
    if args.strength is not None and args.image is None:
        raise InvalidParameterError("--strength", "needs --image (it says how much of that image to change)")
    image = read_input(args.image, "--image") if args.image else None
    mask = read_input(args.mask, "--mask") if args.mask else None
    backend = create_backend(args.backend, args.model, parse_options(args.option))
    with backend:
        manager = VisionManager(backend)
        if image is None:
            asset = manager.generate_image(args.prompt, **params)
        else:
            if args.strength is not None:
                params["strength"] = args.strength
            asset = manager.edit_image(args.prompt, image, mask=mask, **params)
    write_atomic(args.out, asset.data)
    print(f"wrote {args.out} (seed {asset.metadata.get('seed')}, {asset.metadata.get('model')})")
    return 0


def read_input(path: Path, flag: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidParameterError(flag, f"cannot read {str(path)!r}: {exc.strerror}") from exc


def parse_options(items: list[str]) -> dict[str, object]:
    """``KEY=VALUE`` strings to a dict, with YAML typing of values (``true``, ``3``, ``0.5``)."""
    import yaml

    options: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidParameterError("--option", f"expected KEY=VALUE, got {item!r}")
        options[key] = yaml.safe_load(value)
    return options

"""``abstractvision sdcpp build-cli|convert``: tools for the stable-diffusion.cpp backend."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InvalidParameterError

CONVERT_TYPES = ("q8_0", "q4_0", "f16")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sdcpp", help="stable-diffusion.cpp tools: build sd-cli, convert models to GGUF")
    commands = parser.add_subparsers(dest="sdcpp_command", metavar="SDCPP_COMMAND", required=True)

    build = commands.add_parser(
        "build-cli",
        help="build sd-cli from the stable-diffusion-cpp-python sdist into the cache and print its path",
        description="Download the stable-diffusion-cpp-python sdist with pip (or use --sdist), build its vendored "
        "stable-diffusion.cpp sources with CMake (portable: -DGGML_NATIVE=OFF) and print the sd-cli path. "
        "Needs cmake and a C++17 compiler; takes a few minutes.",
    )
    build.add_argument("--sdist", type=Path, default=None, help="a downloaded stable_diffusion_cpp_python-X.tar.gz")
    build.add_argument("--version", default=None, help="sdist version to download (default: the installed binding's)")
    build.add_argument("--jobs", "-j", type=int, default=None, help="parallel compile jobs (default: CPU count)")
    build.add_argument("--native", action="store_true", help="tune for this CPU instead of a portable build")
    build.add_argument("--cmake-arg", action="append", default=[], help="extra CMake option, e.g. -DSD_CUDA=ON")
    build.add_argument("--force", action="store_true", help="rebuild even if this version is already built")
    build.set_defaults(func=run_build_cli)

    convert = commands.add_parser(
        "convert",
        help="convert a model (file or diffusers folder) to a quantised GGUF file",
        description="Convert a model to GGUF with stable-diffusion.cpp's converter (Python package, or sd-cli "
        "with --mode cli).",
    )
    convert.add_argument("input", type=Path, help="model file (.safetensors, .ckpt, .gguf) or diffusers folder")
    convert.add_argument("output", type=Path, help="the .gguf file to write")
    convert.add_argument("--type", dest="weight_type", choices=CONVERT_TYPES, default="q8_0", help="default: q8_0")
    convert.add_argument("--vae", type=Path, default=None, help="a separate VAE file to include")
    convert.add_argument("--mode", choices=("python", "cli"), default="python", help="converter to use")
    convert.add_argument("--sd-cli-path", default=None, help="sd-cli for --mode cli (default: PATH, then the cache)")
    convert.set_defaults(func=run_convert)


def run_build_cli(args: argparse.Namespace) -> int:
    import sys

    from ..backends.stable_diffusion_cpp.build import build_sd_cli

    path = build_sd_cli(
        sdist=args.sdist,
        version=args.version,
        jobs=args.jobs,
        cmake_args=args.cmake_arg,
        native=args.native,
        force=args.force,
        log=lambda message: print(message, file=sys.stderr),
    )
    print(path)
    return 0


def run_convert(args: argparse.Namespace) -> int:
    if not args.input.exists():
        raise InvalidParameterError("input", f"{str(args.input)!r} does not exist")
    if args.vae is not None and not args.vae.is_file():
        raise InvalidParameterError("--vae", f"{str(args.vae)!r} is not a file")
    if args.output.suffix != ".gguf":
        raise InvalidParameterError("output", f"must end in .gguf, got {str(args.output)!r}")
    # Convert next to the target, then rename: a reader never sees a half-written model.
    temp = args.output.with_name(f".{args.output.name}.partial")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        if args.mode == "cli":
            from ..backends.stable_diffusion_cpp.cli_runner import convert_with_cli, require_sd_cli

            convert_with_cli(require_sd_cli(args.sd_cli_path), args.input, temp, args.weight_type, args.vae)
        else:
            from ..backends.stable_diffusion_cpp.python_runner import convert_model

            convert_model(args.input, temp, args.weight_type, args.vae)
        temp.replace(args.output)
    finally:
        temp.unlink(missing_ok=True)
    print(args.output)
    return 0

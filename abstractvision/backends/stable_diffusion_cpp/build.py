"""Build ``sd-cli`` from the stable-diffusion.cpp sources vendored in the stable-diffusion-cpp-python sdist.

No package ships the binary. The sdist (from PyPI through pip, or a file given with ``--sdist``) holds the
exact sources the Python binding was built from, so both modes run the same engine version. The build is
portable (``-DGGML_NATIVE=OFF``) unless told otherwise, and lands in
``<cache>/sdcpp/sd-cli-<version>/sd-cli``: built in a temporary folder, then renamed into place.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ...builtin.cache import cache_root
from ...errors import BackendUnavailableError, InvalidParameterError

PACKAGE = "stable-diffusion-cpp-python"
MARKER_FILE = "build.json"
BASE_CMAKE_ARGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DSD_BUILD_EXAMPLES=ON",
    "-DSD_SERVER_BUILD_FRONTEND=OFF",
    "-DSD_WEBP=OFF",
    "-DSD_WEBM=OFF",
)
PORTABLE_CMAKE_ARGS = ("-DGGML_NATIVE=OFF",)
_SDIST_RE = re.compile(r"stable_diffusion_cpp_python-(?P<version>[^/]+?)\.tar\.gz$")


def sd_cli_root() -> Path:
    return cache_root() / "sdcpp"


def built_sd_cli() -> Path | None:
    """The sd-cli built by ``build_sd_cli``: the one matching the installed binding, else the newest."""
    root = sd_cli_root()
    installed = _installed_version()
    if installed and (root / f"sd-cli-{installed}" / "sd-cli").is_file():
        return root / f"sd-cli-{installed}" / "sd-cli"
    built = sorted(root.glob("sd-cli-*/sd-cli"), key=lambda p: p.stat().st_mtime)
    return built[-1] if built else None


def build_info(sd_cli: Path) -> dict[str, object]:
    """What ``build_sd_cli`` recorded about a binary it built (empty for other binaries)."""
    marker = sd_cli.parent / MARKER_FILE
    return json.loads(marker.read_text(encoding="utf-8")) if marker.is_file() else {}


def build_sd_cli(
    *,
    sdist: Path | None = None,
    version: str | None = None,
    jobs: int | None = None,
    cmake_args: Sequence[str] = (),
    native: bool = False,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> Path:
    """Build sd-cli (about 2-5 minutes) and return its path; reuse an existing build unless ``force``.

    Args:
        sdist (`Path`, *optional*): a downloaded ``stable_diffusion_cpp_python-X.tar.gz``; default: pip
            downloads the sdist of ``version``.
        version (`str`, *optional*): defaults to the installed binding's version, else the newest on PyPI.
        jobs (`int`, *optional*): parallel compile jobs, defaults to the CPU count.
        cmake_args: extra CMake options, e.g. ``["-DSD_CUDA=ON"]``.
        native (`bool`, defaults to False): tune for this CPU instead of a portable build.
    """
    for tool in ("cmake", "c++"):
        if shutil.which(tool) is None:
            raise BackendUnavailableError(
                f"building sd-cli needs {tool!r} on PATH; install CMake and a C++17 compiler "
                "(e.g. `apt-get install cmake g++`, or `pip install cmake`)",
                backend="sdcpp",
            )
    if sdist is not None and not _SDIST_RE.search(sdist.name):
        raise InvalidParameterError(
            "--sdist", f"expected a stable_diffusion_cpp_python-X.tar.gz file, got {sdist.name}"
        )
    version = _SDIST_RE.search(sdist.name)["version"] if sdist else (version or _installed_version())
    root = sd_cli_root()
    if version and not force and (root / f"sd-cli-{version}" / "sd-cli").is_file():
        return root / f"sd-cli-{version}" / "sd-cli"
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build-sd-cli-", dir=root) as temp:
        work = Path(temp)
        if sdist is None:
            sdist = _download_sdist(version, work, log)
            version = _SDIST_RE.search(sdist.name)["version"]
        sources = _extract_vendored_sources(sdist, work)
        args = [*BASE_CMAKE_ARGS, *(() if native else PORTABLE_CMAKE_ARGS), *cmake_args]
        generator = ["-G", "Ninja"] if shutil.which("ninja") else []
        log(f"configuring stable-diffusion.cpp {version} ({' '.join(args)})")
        _check_call(["cmake", "-S", str(sources), "-B", str(work / "build"), *generator, *args], "configure")
        log(f"compiling sd-cli with {jobs or os.cpu_count()} jobs (a few minutes)")
        build = ["cmake", "--build", str(work / "build"), "--target", "sd-cli", "-j", str(jobs or os.cpu_count() or 1)]
        _check_call(build, "build")
        staged = work / "out"
        staged.mkdir()
        shutil.copy2(work / "build" / "bin" / "sd-cli", staged / "sd-cli")
        info = {"package": PACKAGE, "version": version, "cmake_args": args}
        (staged / MARKER_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")
        target = root / f"sd-cli-{version}"
        if target.exists():
            shutil.rmtree(target)
        os.rename(staged, target)
    return target / "sd-cli"


def _installed_version() -> str | None:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version(PACKAGE)
    except PackageNotFoundError:
        return None


def _download_sdist(version: str | None, folder: Path, log: Callable[[str], None]) -> Path:
    requirement = f"{PACKAGE}=={version}" if version else PACKAGE
    log(f"downloading the {requirement} sdist with pip")
    command = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "-d", str(folder)]
    _check_call([*command, requirement], "download")
    found = [p for p in folder.iterdir() if _SDIST_RE.search(p.name)]
    if not found:
        raise BackendUnavailableError(f"pip downloaded no {PACKAGE} sdist into {folder}", backend="sdcpp")
    return found[0]


def _extract_vendored_sources(sdist: Path, folder: Path) -> Path:
    """Unpack the sdist and return its ``vendor/stable-diffusion.cpp`` folder."""
    with tarfile.open(sdist) as archive:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12: refuse links and paths leaving the folder
            archive.extractall(folder / "src", filter="data")
        else:
            archive.extractall(folder / "src")  # an sdist from PyPI or one the user chose
    found = list((folder / "src").glob("*/vendor/stable-diffusion.cpp/CMakeLists.txt"))
    if not found:
        raise InvalidParameterError("--sdist", f"{sdist.name} holds no vendor/stable-diffusion.cpp sources")
    return found[0].parent


def _check_call(command: list[str], step: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise BackendUnavailableError(
            f"building sd-cli failed at the {step} step (exit status {result.returncode}):\n{tail}", backend="sdcpp"
        )

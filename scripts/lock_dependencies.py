#!/usr/bin/env python3
"""Lock shipmark's runtime dependencies (for the CI wrappers' installs) and its build
backend (for a reproducible release wheel), with hashes.

    python scripts/lock_dependencies.py           # re-resolve and rewrite both locks
    python scripts/lock_dependencies.py --check   # offline: exit 1 when a lock no longer matches
                                                  # pyproject.toml

installer/runtime-lock.txt: pyproject.toml's dependencies, what the wrappers install.
installer/build-lock.txt: [build-system] requires plus the `build` frontend, what the
release command (scripts/bump_version.py) and the release workflow build the wheel with.
The wheel's bytes depend on the build backend's version, so both build with exactly these
files; the wrappers then pin the released wheel by its sha256.

Refreshing needs uv (`pip install uv`) and the package index. uv resolves the dependency
set once for every Python shipmark supports and every platform (`--universal`); this
script then keeps only the hashes of wheels the wrappers can install (CPython on Linux
x86_64/aarch64 (glibc and musl), macOS and 64-bit Windows, plus pure-Python wheels):
the wrappers install with `--only-binary :all:`, so no dependency is built from source and
no build backend is fetched. Anything else (a 32-bit or s390x runner, PyPy) takes the
wrappers' `package` escape hatch, which bypasses the lock and says so in the job log.

The header records a digest of what each lock was resolved from (the dependency list and
`requires-python`; the build requirements and the build Python): `--check` (and the tests)
compare it, so a dependency change that forgets to refresh a lock fails the tests.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
LOCK = Path("installer/runtime-lock.txt")
BUILD_LOCK = Path("installer/build-lock.txt")
# The build lock is resolved for the Python the release workflow builds with and newer ones:
# one version of each build package, whatever the interpreter (older ones take other
# versions, which would make another wheel).
BUILD_PYTHON = "3.12"
BUILD_FRONTEND = "build"
INDEX = "https://pypi.org/simple"
DIGEST_LINE = re.compile(r"^# (?:pyproject-dependencies|build-system-requires)-sha256: (?P<digest>[0-9a-f]{64})$",
                         re.M)
REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^ ;\\]+)(?P<marker> ;[^\\]*)?")
HASH = re.compile(r"--hash=sha256:(?P<hash>[0-9a-f]{64})")

# Wheel tags the wrappers run on. Python tags: CPython 3 and pure/abi3 wheels (no PyPy, no
# free-threaded builds). Platform tags: 64-bit Linux (glibc, musl), macOS, 64-bit Windows.
PYTHON_TAG = re.compile(r"^(py3|py2\.py3|cp3\d+)$")
ABI_TAG = re.compile(r"^(none|abi3|cp3\d+)$")
PLATFORM_TAG = re.compile(
    r"^(any|(many|musl)linux\w*_(x86_64|aarch64)|macosx_\d+_\d+_(x86_64|arm64|universal2)|win_(amd64|arm64))$"
)

HEADER = """\
# shipmark's runtime dependencies, locked with the sha256 of every wheel the CI wrappers may
# install (CPython 3.9+ on 64-bit Linux, macOS and Windows). Generated from pyproject.toml:
# do not edit by hand. Refresh with:  python scripts/lock_dependencies.py
# pyproject-dependencies-sha256: {digest}
"""

BUILD_HEADER = """\
# shipmark's build backend and build frontend, locked with the sha256 of every wheel, for a
# reproducible release wheel (CPython {python}+). Generated from pyproject.toml's [build-system]:
# do not edit by hand. Refresh with:  python scripts/lock_dependencies.py
# Use:  pip install --require-hashes --only-binary :all: -r installer/build-lock.txt
#       python -m build --wheel --no-isolation
# build-system-requires-sha256: {digest}
"""


def _pyproject(root: Path) -> dict:
    try:
        import tomllib  # Python >= 3.11
    except ImportError:  # pragma: no cover - older interpreters
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads((root / "pyproject.toml").read_text())


def dependencies_digest(root: Path = ROOT) -> str:
    """Digest of what the lock is resolved from: the dependency list and requires-python."""
    project = _pyproject(root)["project"]
    basis = {"dependencies": sorted(project["dependencies"]), "requires-python": project["requires-python"]}
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()


def build_requirements(root: Path = ROOT) -> List[str]:
    """What the build lock is resolved from: [build-system] requires and the build frontend."""
    return sorted(_pyproject(root)["build-system"]["requires"]) + [BUILD_FRONTEND]


def build_digest(root: Path = ROOT) -> str:
    basis = {"requires": build_requirements(root), "python": BUILD_PYTHON}
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()


def recorded_digest(lock_text: str) -> Optional[str]:
    match = DIGEST_LINE.search(lock_text)
    return match.group("digest") if match else None


def parse(lock_text: str) -> List[Tuple[str, str, str, List[str]]]:
    """(name, version, marker, hashes) of every requirement in a lock."""
    entries: List[Tuple[str, str, str, List[str]]] = []
    for block in re.split(r"\n(?=[A-Za-z])", lock_text):
        match = REQUIREMENT.match(block.strip())
        if match:
            marker = (match.group("marker") or "").lstrip(" ;").strip()
            entries.append((match.group("name").lower(), match.group("version"), marker, HASH.findall(block)))
    return entries


def installable(filename: str) -> bool:
    """Whether a wheel file is one the wrappers may install (see PLATFORM_TAG)."""
    if not filename.endswith(".whl"):
        return False
    python, abi, platforms = filename[:-4].split("-")[-3:]
    return (
        any(PYTHON_TAG.match(tag) for tag in python.split("."))
        and any(ABI_TAG.match(tag) for tag in abi.split("."))
        and any(PLATFORM_TAG.match(tag) for tag in platforms.split("."))
    )


def wheel_hashes(name: str, version: str) -> Dict[str, str]:
    """sha256 -> file name of the installable wheels of one release, from the index's JSON API."""
    request = urllib.request.Request(f"{INDEX}/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - a fixed https URL
        files = json.load(response)["files"]
    normalized = re.sub(r"[-_.]+", "_", name).lower()
    wanted = {}
    for entry in files:
        filename = entry["filename"]
        stem = filename.split("-")
        if (len(stem) >= 5 and re.sub(r"[-_.]+", "_", stem[0]).lower() == normalized and stem[1] == version
                and installable(filename) and "sha256" in entry.get("hashes", {})):
            wanted[entry["hashes"]["sha256"]] = filename
    return wanted


def resolve(root: Path, source: str = "pyproject.toml", python: Optional[str] = None, stdin: str = "") -> str:
    """uv's universal resolution of a requirements source, with every file's hash."""
    uv = shutil.which("uv")
    if not uv:
        raise SystemExit("refreshing the lock needs uv: pip install uv")
    python = python or _pyproject(root)["project"]["requires-python"].lstrip(">=")
    command = [uv, "pip", "compile", source, "--universal", "--generate-hashes", "--python-version", python,
               "--index-url", INDEX, "--no-header", "--no-annotate"]
    return subprocess.run(command, cwd=str(root), check=True, input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True).stdout


def render(entries: Iterable[Tuple[str, str, str, List[str]]], header: str) -> str:
    lines = [header]
    for name, version, marker, hashes in entries:
        if not hashes:
            raise SystemExit(f"{name}=={version} has no wheel for the supported platforms")
        head = f"{name}=={version}" + (f" ; {marker}" if marker else "")
        lines.append(" \\\n".join([head] + [f"    --hash=sha256:{value}" for value in sorted(hashes)]) + "\n")
    return "".join(lines)


def _wheels_only(resolved: str) -> List[Tuple[str, str, str, List[str]]]:
    kept = []
    for name, version, marker, hashes in parse(resolved):
        wheels = wheel_hashes(name, version)
        kept.append((name, version, marker, [value for value in hashes if value in wheels]))
    return kept


def refresh(root: Path = ROOT) -> str:
    return render(_wheels_only(resolve(root)), HEADER.format(digest=dependencies_digest(root)))


def refresh_build(root: Path = ROOT) -> str:
    resolved = resolve(root, "-", BUILD_PYTHON, "\n".join(build_requirements(root)) + "\n")
    return render(_wheels_only(resolved), BUILD_HEADER.format(python=BUILD_PYTHON, digest=build_digest(root)))


# Each lock, the digest of what it is resolved from, and how to regenerate it.
LOCKS = ((LOCK, dependencies_digest, refresh, "pyproject.toml's dependencies"),
         (BUILD_LOCK, build_digest, refresh_build, "pyproject.toml's [build-system] requires"))


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the lock is out of date")
    options = parser.parse_args(argv)
    stale = 0
    for lock, digest, regenerate, basis in LOCKS:
        path = ROOT / lock
        if options.check:
            text = path.read_text() if path.is_file() else ""
            if recorded_digest(text) != digest(ROOT):
                print(f"{lock} does not match {basis}: run python scripts/lock_dependencies.py", file=sys.stderr)
                stale = 1
            continue
        text = regenerate(ROOT)
        path.parent.mkdir(parents=True, exist_ok=True)
        changed = not path.is_file() or path.read_text() != text
        path.write_text(text)
        print(f"{'wrote' if changed else 'unchanged'} {lock} ({len(parse(text))} requirements)")
    return stale


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Build shipmark's sdist and wheel once per test session, and install them like a user would.

Shared by tests/release and tests/wrappers (each wrapper's executor test installs from the
freshly built wheel). The build runs `python -m build` on the working tree: sdist first, then
the wheel built from that sdist, so a file missing from the sdist breaks the wheel too.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Dist:
    sdist: Path
    wheel: Path


_built: Dict[str, Dist] = {}


def version() -> str:
    for line in (REPO / "src" / "shipmark" / "__init__.py").read_text().splitlines():
        if line.startswith("__version__"):
            return line.split('"')[1]
    raise AssertionError("no __version__ in src/shipmark/__init__.py")


def built_dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """The sdist and wheel of the working tree, built on first use in this session."""
    if "dist" not in _built:
        out = tmp_path_factory.mktemp("dist")
        proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-6000:]
        (sdist,) = out.glob("shipmark-*.tar.gz")
        (wheel,) = out.glob("shipmark-*-py3-none-any.whl")
        _built["dist"] = Dist(sdist=sdist, wheel=wheel)
    return _built["dist"]


def isolated_env(**extra: str) -> Dict[str, str]:
    """The environment without Python, CI or shipmark variables that could reach the source tree."""
    drop = ("PYTHON", "VIRTUAL_ENV", "SHIPMARK_", "GITHUB_", "GITLAB_", "CI_", "JENKINS_", "BUILD_", "RUNNER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and k != "CI"}
    env.update(extra)
    return env


def bin_dir(venv_dir: Path) -> Path:
    return venv_dir / ("Scripts" if os.name == "nt" else "bin")


def make_venv(venv_dir: Path) -> Path:
    """A fresh virtualenv with pip, from the interpreter running the tests; returns its python."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv_dir)], check=True, stdin=subprocess.DEVNULL, timeout=300)
    return bin_dir(venv_dir) / "python"


def pip_install(python: Path, requirements: List[str], *, cwd: Path, env: Optional[Dict[str, str]] = None
                ) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                           *requirements], cwd=str(cwd), env=env or isolated_env(), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-6000:]
    return proc


def copy_without_vcs(dest: Path) -> Path:
    """A copy of the repository's tracked files (what a fresh clone holds)."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=str(REPO),
                           check=True, stdout=subprocess.PIPE).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def local_index(dist: Dist, dest: Path) -> Path:
    """A PEP 503 index (scripts/simple_index.py) holding the built wheel and its dependencies."""
    files = dest / "files"
    # The dependencies come through the machine's usual pip configuration; the wheel is local.
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-input",
                           "--only-binary", ":all:", "-d", str(files), str(dist.wheel)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:]
    index = dest / "simple"
    subprocess.run([sys.executable, str(REPO / "scripts" / "simple_index.py"), str(files), str(index)], check=True,
                   stdout=subprocess.DEVNULL, timeout=120)
    assert (index / "shipmark" / dist.wheel.name).is_file()
    return index


def index_only_env(index: Path, **extra: str) -> Dict[str, str]:
    """pip (and uv through the wrappers) can reach nothing but `index`: no config files, no cache."""
    env = isolated_env(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=index.as_uri(), PIP_NO_CACHE_DIR="1", **extra)
    for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT"):
        env.pop(name, None)
    return env

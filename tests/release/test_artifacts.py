"""The sdist and wheel as the package index and a user receive them.

Builds both from the working tree (once per session), checks them with twine, and runs the
CLI from the wheel installed in a fresh virtualenv, in a directory with no source tree.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from dist_support import REPO, bin_dir, isolated_env, make_venv, pip_install, version

pytestmark = pytest.mark.release

# What a user or a packager needs in the sdist to build shipmark and run its tests.
SDIST_MUST_HOLD = (
    "pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "SECURITY.md", "CONTRIBUTING.md",
    "src/shipmark/__init__.py", "src/shipmark/wrap.py", "tests/conftest.py", "tests/release/test_artifacts.py",
    "tests/wrappers/install-tools.sh", "tests/wrappers/package-lock.json", "action.yml",
    "actions/_shared/install.sh", "gitlab-ci/shipmark.yml", "templates/shipmark.yml",
    "jenkins/vars/shipmark.groovy", "scripts/bump_version.py", "scripts/gitlab_component.py", ".ci/run",
    "installer/install.sh", "installer/runtime-lock.txt", "installer/build-lock.txt",
)


def test_twine_check_strict(dist):
    proc = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(dist.sdist), str(dist.wheel)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.count("PASSED") == 2, proc.stdout


def test_artifacts_are_named_after_the_version(dist):
    assert dist.sdist.name == f"shipmark-{version()}.tar.gz"
    assert dist.wheel.name == f"shipmark-{version()}-py3-none-any.whl"


def test_wheel_metadata_is_complete(dist):
    with zipfile.ZipFile(dist.wheel) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(f"shipmark-{version()}.dist-info/METADATA").decode()
        entry_points = wheel.read(f"shipmark-{version()}.dist-info/entry_points.txt").decode()
    assert f"shipmark-{version()}.dist-info/licenses/LICENSE" in names
    assert not [n for n in names if n.startswith(("tests/", "src/"))], names
    fields = re.findall(r"^([A-Za-z-]+): (.*)$", metadata.split("\n\n")[0], re.M)
    urls = {value.split(", ")[0]: value.split(", ")[1] for key, value in fields if key == "Project-URL"}
    assert urls == {
        "Homepage": "https://github.com/shipmark/shipmark",
        "Documentation": "https://github.com/shipmark/shipmark/tree/main/docs",
        "Changelog": "https://github.com/shipmark/shipmark/blob/main/CHANGELOG.md",
        "Issues": "https://github.com/shipmark/shipmark/issues",
        "Source": "https://github.com/shipmark/shipmark",
    }
    classifiers = {value for key, value in fields if key == "Classifier"}
    assert {f"Programming Language :: Python :: 3.{minor}" for minor in range(9, 14)} <= classifiers
    assert ("License-Expression", "MIT") in fields and ("Requires-Python", ">=3.9") in fields
    assert dict(fields)["Keywords"]
    assert "shipmark = shipmark.cli:main" in entry_points and "shipmark-wrap = shipmark.wrap:main" in entry_points


def test_sdist_holds_what_building_and_testing_need(dist):
    with tarfile.open(dist.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    missing = [name for name in SDIST_MUST_HOLD if name not in names]
    assert not missing, missing
    assert not [n for n in names if "node_modules" in n or "__pycache__" in n or n.startswith(".venv")]
    tracked_tests = subprocess.run(["git", "ls-files", "tests"], cwd=str(REPO), check=True, text=True,
                                   stdout=subprocess.PIPE).stdout.split()
    assert set(tracked_tests) - names == set(), "tracked test files missing from the sdist"


def test_wheel_runs_every_command_from_a_fresh_venv(dist, tmp_path):
    """No source tree around: the commands run from the installed wheel alone."""
    python = make_venv(tmp_path / "venv")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    pip_install(python, [str(dist.wheel)], cwd=elsewhere)
    shipmark = str(bin_dir(tmp_path / "venv") / "shipmark")
    env = isolated_env(SHIPMARK_SPOOL=str(tmp_path / "spool.jsonl"))

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([shipmark, *args], cwd=str(elsewhere), env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)

    where = subprocess.run([str(python), "-c", "import shipmark; print(shipmark.__file__)"], cwd=str(elsewhere),
                           env=env, stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
    assert Path(where).resolve().is_relative_to((tmp_path / "venv").resolve()), where

    proc = cli("--version")
    assert (proc.returncode, proc.stdout) == (0, f"shipmark {version()}\n"), proc
    proc = cli("context", "--json")
    assert proc.returncode == 0, proc
    assert json.loads(proc.stdout)["is_ci"] is False
    proc = cli("deploy", "--dry-run", "-e", "staging")
    assert proc.returncode == 0, proc
    event = json.loads(proc.stdout)
    assert (event["operation"], event["environment"], event["status"]) == ("deploy", "staging", "success")
    assert "no targets configured" in proc.stderr
    proc = subprocess.run([str(bin_dir(tmp_path / "venv") / "shipmark-wrap")], cwd=str(elsewhere),
                          env=dict(env, SHIPMARK_WRAP_COMMAND="deploy", SHIPMARK_WRAP_ARGS="--dry-run"),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=120)
    assert proc.returncode == 0 and json.loads(proc.stdout)["operation"] == "deploy", proc

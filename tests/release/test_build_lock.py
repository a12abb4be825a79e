"""installer/build-lock.txt: the build backend (and the `build` frontend) the release wheel is
built with, hash-locked, resolved from pyproject.toml's [build-system] requires."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.version import Version

from dist_support import REPO

pytestmark = pytest.mark.release

sys.path.insert(0, str(REPO / "scripts"))
import lock_dependencies  # noqa: E402

BUILD_LOCK_TEXT = (REPO / lock_dependencies.BUILD_LOCK).read_text()


# --- the build lock ---------------------------------------------------------------------------

def test_build_lock_was_resolved_from_todays_build_requirements():
    assert lock_dependencies.recorded_digest(BUILD_LOCK_TEXT) == lock_dependencies.build_digest(REPO)


@pytest.mark.parametrize("python", ["3.12", "3.13", "3.14"])
def test_build_lock_pins_each_build_requirement_once_with_hashes(python):
    env = {"python_full_version": python + ".0", "python_version": python, "sys_platform": "linux",
           "platform_system": "Linux", "platform_machine": "x86_64", "implementation_name": "cpython",
           "platform_python_implementation": "CPython", "os_name": "posix"}
    entries = lock_dependencies.parse(BUILD_LOCK_TEXT)
    active = [(name, ver, hashes) for name, ver, marker, hashes in entries if not marker or Marker(marker).evaluate(env)]
    names = [name for name, _, _ in active]
    assert len(names) == len(set(names)), f"two pins of one package for Python {python}"
    pinned = {name: ver for name, ver, _ in active}
    for declared in lock_dependencies.build_requirements(REPO):
        requirement = Requirement(declared)
        assert requirement.name.lower() in pinned, f"{requirement.name} missing from the build lock"
        assert requirement.specifier.contains(Version(pinned[requirement.name.lower()]), prereleases=True)
    assert all(hashes and all(len(h) == 64 for h in hashes) for _, _, hashes in active)


def test_a_changed_build_requirement_makes_the_build_lock_stale(tmp_path):
    scripts, installer = tmp_path / "scripts", tmp_path / "installer"
    scripts.mkdir()
    installer.mkdir()
    shutil.copy(REPO / "scripts/lock_dependencies.py", scripts)
    for lock in (lock_dependencies.LOCK, lock_dependencies.BUILD_LOCK):
        shutil.copy(REPO / lock, tmp_path / lock)
    pyproject = (REPO / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(pyproject)
    command = [sys.executable, str(scripts / "lock_dependencies.py"), "--check"]
    assert subprocess.run(command, capture_output=True, text=True).returncode == 0
    (tmp_path / "pyproject.toml").write_text(pyproject.replace('requires = ["hatchling>=1.27"]',
                                                               'requires = ["hatchling>=1.28"]'))
    stale = subprocess.run(command, capture_output=True, text=True)
    assert stale.returncode == 1
    assert stale.stderr == ("installer/build-lock.txt does not match pyproject.toml's [build-system] requires: "
                            "run python scripts/lock_dependencies.py\n")

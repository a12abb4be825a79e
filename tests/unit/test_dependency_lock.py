"""The wrappers' hash lock (installer/runtime-lock.txt) matches pyproject.toml, and every
copy of the installer the wrappers carry equals the original."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import installer_copies  # noqa: E402
import lock_dependencies  # noqa: E402

LOCK_TEXT = (ROOT / lock_dependencies.LOCK).read_text()
ENTRIES = lock_dependencies.parse(LOCK_TEXT)


def test_lock_was_resolved_from_todays_dependencies():
    assert lock_dependencies.recorded_digest(LOCK_TEXT) == lock_dependencies.dependencies_digest(ROOT)


def test_a_changed_dependency_makes_the_lock_stale(tmp_path):
    (tmp_path / "installer").mkdir()
    text = (ROOT / "pyproject.toml").read_text().replace('"click>=8.1"', '"click>=8.2"')
    assert text != (ROOT / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(text)
    assert lock_dependencies.dependencies_digest(tmp_path) != lock_dependencies.recorded_digest(LOCK_TEXT)


def test_check_command_exits_1_when_stale_and_0_when_current(tmp_path):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    shutil.copy(ROOT / "scripts/lock_dependencies.py", scripts)
    (tmp_path / "installer").mkdir()
    (tmp_path / "installer/runtime-lock.txt").write_text(LOCK_TEXT)
    shutil.copy(ROOT / lock_dependencies.BUILD_LOCK, tmp_path / lock_dependencies.BUILD_LOCK)
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    check = [sys.executable, str(scripts / "lock_dependencies.py"), "--check"]
    assert subprocess.run(check, capture_output=True, text=True).returncode == 0
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text().replace(
        '"PyYAML>=6.0",', '"PyYAML>=6.0",\n  "rich>=13",'))
    stale = subprocess.run(check, capture_output=True, text=True)
    assert stale.returncode == 1
    assert "python scripts/lock_dependencies.py" in stale.stderr


@pytest.mark.parametrize("python", ["3.9", "3.10", "3.12", "3.14"])
def test_each_declared_dependency_has_exactly_one_allowed_pin_per_python(python):
    env = {"python_full_version": python + ".0", "python_version": python, "sys_platform": "linux",
           "platform_system": "Linux", "platform_machine": "x86_64", "implementation_name": "cpython",
           "platform_python_implementation": "CPython", "os_name": "posix"}
    from packaging.markers import Marker

    active = [(name, version) for name, version, marker, _ in ENTRIES if not marker or Marker(marker).evaluate(env)]
    names = [name for name, _ in active]
    assert len(names) == len(set(names)), f"two pins of one package for Python {python}"
    pinned = dict(active)
    for declared in lock_dependencies._pyproject(ROOT)["project"]["dependencies"]:
        requirement = Requirement(declared)
        name = requirement.name.lower()
        assert name in pinned, f"{name} missing from the lock for Python {python}"
        assert requirement.specifier.contains(Version(pinned[name]), prereleases=True), (name, pinned[name])


def test_every_pin_carries_wheel_hashes_only_for_supported_platforms():
    assert ENTRIES, "the lock parsed to nothing"
    for name, version, _, hashes in ENTRIES:
        assert hashes, f"{name}=={version} has no hash"
        assert all(len(value) == 64 for value in hashes)
    assert lock_dependencies.installable("pydantic_core-2.50.5-cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64.whl")
    assert lock_dependencies.installable("click-8.5.1-py3-none-any.whl")
    assert lock_dependencies.installable("pydantic_core-2.50.5-cp312-cp312-win_amd64.whl")
    assert not lock_dependencies.installable("pydantic_core-2.50.5.tar.gz")
    assert not lock_dependencies.installable("pydantic_core-2.50.5-cp312-cp312-manylinux2014_s390x.manylinux_2_17_s390x.whl")
    assert not lock_dependencies.installable("pydantic_core-2.50.5-pp310-pypy310_pp73-manylinux_2_17_x86_64.whl")


def test_wrapper_copies_of_the_installer_are_current():
    assert installer_copies.stale(ROOT) == []


def test_an_edited_installer_makes_every_copy_stale(tmp_path):
    for path in ("installer/install.sh", "installer/runtime-lock.txt", "gitlab-ci/shipmark.yml"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, tmp_path / path)
    for path in installer_copies.expected(ROOT):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, tmp_path / path)
    assert installer_copies.stale(tmp_path) == []
    with (tmp_path / "installer/install.sh").open("a") as handle:
        handle.write("# changed\n")
    assert set(installer_copies.stale(tmp_path)) == {
        "jenkins/resources/shipmark/install.sh", "gitlab-ci/shipmark.yml", "templates/shipmark.yml"}

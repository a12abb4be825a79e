"""The wrappers' default install is pinned to the released wheel's sha256.

installer/build-lock.txt fixes the build backend; the release command builds the wheel with
it and records the digest in the GitLab template and the Jenkins step; the release workflow
builds again and `bump_version.py --check --tag ... --wheel ...` stops it when the wheel
differs from the recorded digest.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Tuple

import pytest

from dist_support import REPO, copy_without_vcs, version

pytestmark = pytest.mark.release

sys.path.insert(0, str(REPO / "scripts"))
import bump_version  # noqa: E402
import gitlab_component  # noqa: E402

BUMP = REPO / "scripts" / "bump_version.py"
GITLAB, JENKINS = "gitlab-ci/shipmark.yml", "jenkins/vars/shipmark.groovy"


def check(root: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUMP), "--check", "--root", str(root), *extra],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)


def test_each_wrapper_has_one_digest_placeholder_and_the_check_accepts_today():
    recorded = bump_version.recorded_digests(REPO)
    assert [name for name, _, _ in recorded] == [GITLAB, JENKINS]
    digests = {digest for _, digest, _ in recorded}
    assert None not in digests and len(digests) == 1, recorded
    assert check(REPO).returncode == 0


def test_a_malformed_or_unnamed_digest_fails_the_check(tmp_path):
    root = copy_without_vcs(tmp_path / "repo")
    bump_version.record_digest(root, "ab" * 32, version())
    assert check(root).returncode == 0
    jenkins = root / JENKINS
    jenkins.write_text(jenkins.read_text().replace("ab" * 32, "ab" * 31 + "zz"))
    bad = check(root)
    assert bad.returncode == 1
    assert bad.stdout.splitlines() == [
        f"{JENKINS}: wheel digest '{'ab' * 31}zz' is not a sha256 (64 lowercase hex digits)",
        "the wrappers record different wheel digests: run scripts/bump_version.py --record-digest"]
    # A digest without the wheel name beside it could belong to any version.
    bump_version.record_digest(root, "ab" * 32, version())
    gitlab = root / GITLAB
    gitlab.write_text(gitlab.read_text().replace(f"  # sha256 of shipmark-{version()}-py3-none-any.whl", ""))
    gitlab_component.write(root)
    unnamed = check(root)
    assert unnamed.returncode == 1
    assert unnamed.stdout.splitlines() == [
        f"{GITLAB}: the wheel digest does not name shipmark-{version()}-py3-none-any.whl: "
        "run scripts/bump_version.py --record-digest"]


def test_a_tag_needs_a_recorded_digest(tmp_path):
    root = copy_without_vcs(tmp_path / "repo")
    bump_version.record_digest(root, "", version())
    assert check(root).returncode == 0  # before the first release: nothing recorded yet
    proc = check(root, "--tag", f"v{version()}")
    assert (proc.returncode, proc.stdout) == (
        1, f"no wheel digest recorded for v{version()}: run scripts/bump_version.py --record-digest\n")


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Tuple[Path, Path]:
    """A copy of the repository after `bump_version.py 7.8.9` (which builds the wheel and records
    its digest), and the wheel built again in another directory, as the release workflow does."""
    root = copy_without_vcs(tmp_path_factory.mktemp("released") / "repo")
    proc = subprocess.run([sys.executable, str(BUMP), "7.8.9", "--date", "2031-01-02", "--root", str(root)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout
    return root, bump_version.build_wheel(root, tmp_path_factory.mktemp("rebuilt"))


def test_the_bump_records_the_digest_of_the_wheel_built_with_the_build_lock(released):
    released, wheel = released
    recorded = bump_version.recorded_digests(released)
    (digest,) = {value for _, value, _ in recorded}
    assert bump_version.SHA256.fullmatch(digest)
    assert "shipmark_default_sha256='%s'  # sha256 of shipmark-7.8.9-py3-none-any.whl\n" % digest in \
        (released / GITLAB).read_text()
    assert (released / "templates/shipmark.yml").read_text().count(f"shipmark_default_sha256='{digest}'") == 1
    assert f"@Field final String DEFAULT_PACKAGE_SHA256 = '{digest}'  // sha256 of shipmark-7.8.9-py3-none-any.whl\n" \
        in (released / JENKINS).read_text()
    # The wheel is reproducible: built again elsewhere, it has the recorded digest.
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == digest
    proc = check(released, "--tag", "v7.8.9", "--wheel", str(wheel))
    assert (proc.returncode, proc.stdout) == (0, "")


def test_the_release_check_refuses_another_wheel_or_another_digest(released, tmp_path):
    released, built = released
    wheel = tmp_path / "shipmark-7.8.9-py3-none-any.whl"
    shutil.copy(built, wheel)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    # The same file name with other bytes (a README edited after the bump, another backend).
    with open(wheel, "ab") as handle:
        handle.write(b"\0")
    other = hashlib.sha256(wheel.read_bytes()).hexdigest()
    proc = check(released, "--tag", "v7.8.9", "--wheel", str(wheel))
    assert proc.returncode == 1
    assert proc.stdout == (f"shipmark-7.8.9-py3-none-any.whl has sha256 {other}, the wrappers record {digest}: "
                           "not the wheel the wrappers install\n")
    # A digest recorded for the previous version does not pass for this one.
    stale = tmp_path / "repo"
    shutil.copytree(released, stale)
    for name in (GITLAB, JENKINS):
        path = stale / name
        path.write_text(path.read_text().replace("shipmark-7.8.9-py3-none-any.whl", "shipmark-7.8.8-py3-none-any.whl"))
    gitlab_component.write(stale)
    proc = check(stale, "--tag", "v7.8.9")
    assert proc.returncode == 1
    assert [line.split(": ", 1)[1] for line in proc.stdout.splitlines()] == [
        "7.8.8 (expected 7.8.9)", "7.8.8 (expected 7.8.9)", "7.8.8 (expected 7.8.9)",
        "the wheel digest does not name shipmark-7.8.9-py3-none-any.whl: run scripts/bump_version.py --record-digest",
        "the wheel digest does not name shipmark-7.8.9-py3-none-any.whl: run scripts/bump_version.py --record-digest"]

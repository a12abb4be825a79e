"""One version everywhere: every pin agrees with shipmark.__version__, and the bump moves them all."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import shipmark
from dist_support import REPO, copy_without_vcs, version

pytestmark = pytest.mark.release

BUMP = REPO / "scripts" / "bump_version.py"
sys.path.insert(0, str(REPO / "scripts"))
import bump_version  # noqa: E402
import gitlab_component  # noqa: E402

# Every kind of place that must name the version: the test fails if one stops doing so.
MUST_PIN = {
    "src/shipmark/__init__.py", "gitlab-ci/shipmark.yml", "templates/shipmark.yml", "jenkins/vars/shipmark.groovy",
    "jenkins/vars/shipmark.txt", "README.md", "docs/wrappers.md",
}


def test_every_pin_agrees_with_the_package_version():
    assert version() == shipmark.__version__
    found = list(bump_version.pins(REPO))
    assert MUST_PIN <= {name for name, _, _ in found}, sorted({name for name, _, _ in found})
    assert bump_version.disagreements(REPO, shipmark.__version__) == []
    # With --tag the check also wants a wheel digest (tests/release/test_release_digest.py).
    proc = subprocess.run([sys.executable, str(BUMP), "--check"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (0, "")


def test_the_check_fails_on_a_stale_pin_or_a_wrong_tag(tmp_path):
    root = copy_without_vcs(tmp_path / "repo")
    docs = root / "docs" / "wrappers.md"
    docs.write_text(docs.read_text().replace(f"ref: v{version()}", "ref: v0.0.9", 1))
    proc = subprocess.run([sys.executable, str(BUMP), "--check", "--root", str(root), "--tag", "v9.9.9"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(lines) == 3, lines
    assert re.fullmatch(rf"docs/wrappers\.md:\d+: 0\.0\.9 \(expected {re.escape(version())}\)", lines[0]), lines
    assert lines[1] == f"tag v9.9.9 does not name version {version()} (expected v{version()})"
    assert lines[2] == "no wheel digest recorded for v9.9.9: run scripts/bump_version.py --record-digest"


def test_the_component_template_is_generated_from_the_gitlab_template():
    assert gitlab_component.stale(REPO) == [], "run python scripts/gitlab_component.py"
    source = (REPO / "gitlab-ci" / "shipmark.yml").read_text()
    component = (REPO / "templates" / "shipmark.yml").read_text()
    # Everything from the job documentation on is the same text; only the usage comment differs.
    assert component.split("# Hidden jobs to `extends:`\n")[1] == source.split("# Hidden jobs to `extends:`\n")[1]
    assert f"component: $CI_SERVER_FQDN/shipmark/shipmark/shipmark@v{version()}" in component
    assert not (REPO / "templates" / "shipmark.yml").is_symlink()


def test_bump_moves_every_pin_and_the_changelog(tmp_path):
    root = copy_without_vcs(tmp_path / "repo")
    old = version()
    before = {name: (root / name).read_text() for name in MUST_PIN | {"CHANGELOG.md"}}
    unreleased = before["CHANGELOG.md"].split("## [Unreleased]\n", 1)[1].split("\n## [", 1)[0].strip()
    assert unreleased, "CHANGELOG.md has an empty Unreleased section"
    proc = subprocess.run([sys.executable, str(BUMP), "7.8.9", "--date", "2031-01-02", "--root", str(root)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout
    lines = proc.stdout.splitlines()
    assert re.fullmatch(r"shipmark-7\.8\.9-py3-none-any\.whl sha256 [0-9a-f]{64}", lines[0]), lines
    assert {line.split(" ", 1)[1] for line in lines[1:]} == MUST_PIN | {"CHANGELOG.md"}

    assert bump_version.current_version(root) == "7.8.9"
    assert bump_version.disagreements(root, "7.8.9") == []
    assert gitlab_component.stale(root) == []
    pins_before = [(n, line) for n, line, _ in bump_version.pins(REPO)]
    # The bump adds one pin per wrapper: the wheel named beside its recorded digest.
    digest_notes = {(n, line) for n, line, _ in bump_version.pins(root)
                    if "sha256 of shipmark-7.8.9" in (root / n).read_text().splitlines()[line - 1]}
    assert {n for n, _ in digest_notes} == {"gitlab-ci/shipmark.yml", "templates/shipmark.yml",
                                            "jenkins/vars/shipmark.groovy"}
    assert [(n, line) for n, line, _ in bump_version.pins(root) if (n, line) not in digest_notes] == pins_before
    for name in MUST_PIN:
        text = (root / name).read_text()
        assert "7.8.9" in text, name
        # What is left of the old version is history, not a pin (the README's benchmark note).
        assert not bump_version.PIN.search(text.replace("7.8.9", "")), name
    assert (root / "gitlab-ci" / "shipmark.yml").read_text().count("default: shipmark==7.8.9") == 1
    assert "@Field final String DEFAULT_PACKAGE = 'shipmark==7.8.9'" in \
        (root / "jenkins" / "vars" / "shipmark.groovy").read_text()
    readme = (root / "README.md").read_text()
    assert f"shipmark {old} installed in" in before["README.md"] and f"shipmark {old} installed in" in readme

    changelog = (root / "CHANGELOG.md").read_text()
    assert changelog.count("## [Unreleased]\n\n## [7.8.9] - 2031-01-02\n") == 1
    assert changelog.split("## [7.8.9] - 2031-01-02\n", 1)[1].split("\n## [", 1)[0].strip() == unreleased
    assert "[Unreleased]: https://github.com/shipmark/shipmark/compare/v7.8.9...HEAD\n" in changelog
    assert f"[7.8.9]: https://github.com/shipmark/shipmark/compare/v{old}...v7.8.9\n" in changelog
    assert f"## [{old}]" in changelog

    notes = subprocess.run([sys.executable, str(REPO / "scripts" / "release_notes.py"), "7.8.9",
                            "--changelog", str(root / "CHANGELOG.md")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert (notes.returncode, notes.stdout.strip()) == (0, unreleased)


def test_bump_refuses_a_version_twice_and_a_malformed_one(tmp_path):
    root = copy_without_vcs(tmp_path / "repo")
    for bad in (version(), "1.2"):
        proc = subprocess.run([sys.executable, str(BUMP), bad, "--root", str(root)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=60)
        assert proc.returncode != 0, proc.stdout
    assert Path(root / "src" / "shipmark" / "__init__.py").read_text() == \
        (REPO / "src" / "shipmark" / "__init__.py").read_text()

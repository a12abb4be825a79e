#!/usr/bin/env python3
"""One version everywhere: bump it, or check that every place naming it agrees.

    python scripts/bump_version.py 0.2.0         # bump, move CHANGELOG's Unreleased to 0.2.0,
                                                  # build the wheel and record its sha256
    python scripts/bump_version.py --record-digest  # rebuild the wheel, record its sha256 again
    python scripts/bump_version.py --check        # exit 1 when a pin disagrees with __version__
    python scripts/bump_version.py --check --tag v0.2.0   # ... or with the tag being released,
                                                  # or when no wheel digest is recorded for it
    python scripts/bump_version.py --check --tag v0.2.0 --wheel dist/shipmark-0.2.0-py3-none-any.whl
                                                  # ... or when that wheel is not the recorded one

The places: src/shipmark/__init__.py, the GitLab template's default `package` (and the
component copy under templates/, regenerated), the Jenkins step's default package and its
help, and every snippet in README.md, CONTRIBUTING.md and docs/ that pins shipmark
(`@vX.Y.Z`, `ref: vX.Y.Z`, `shipmark@vX.Y.Z`, `shipmark==X.Y.Z`, `shipmark-X.Y.Z-py3-none-any.whl`,
`` `vX.Y.Z` ``).
CHANGELOG.md keeps its history; a bump only adds the new version's heading.

The wheel digest: the GitLab template and the Jenkins step install their default package
(`shipmark==X.Y.Z`) pinned by the sha256 of the released wheel, so a same-named file from
another index or a mirror cannot install in its place. The wheel is reproducible when the
build backend is fixed: the bump builds it with installer/build-lock.txt (in a temporary
virtualenv, `python -m build --wheel --no-isolation`) and writes its sha256 into both
wrappers, with the wheel's file name beside it so that the digest names its version. The
release workflow builds the same way and stops before publishing when its wheel differs.
Anything that changes the wheel after the bump (README.md is its long description) needs
`--record-digest` before tagging.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import gitlab_component  # noqa: E402

INIT = Path("src/shipmark/__init__.py")
VERSION_LINE = re.compile(r'^__version__ = "(?P<ver>[^"]+)"$', re.M)
VERSION = r"\d+\.\d+\.\d+(?:(?:a|b|rc|\.post|\.dev)\d+)?"
# Each alternative names shipmark itself, so other actions' `# v5.0.0` comments never match.
PIN = re.compile(r"(?P<pre>shipmark/shipmark(?:/[\w.-]+)*@v|shipmark@<sha> # v|shipmark@v|ref: v|"
                 r"shipmark==|shipmark-|`v)(?P<ver>" + VERSION + r")(?![\w.])")
PIN_FILES = ("README.md", "CONTRIBUTING.md", "docs/**/*.md", "gitlab-ci/*.yml", "templates/*.yml",
             "jenkins/vars/*", "action.yml", "actions/*/action.yml")
CHANGELOG = Path("CHANGELOG.md")
BUILD_LOCK = Path("installer/build-lock.txt")
# Where each wrapper records the default wheel's sha256: the assignment, then a comment
# naming the wheel (a `shipmark-X.Y.Z` pin, so the version checks and the bump cover it).
DIGESTS = {
    Path("gitlab-ci/shipmark.yml"): (re.compile(r"(?P<pre>shipmark_default_sha256=')(?P<digest>[^'\n]*)'(?P<note>.*)$",
                                                re.M), "  # sha256 of {wheel}"),
    Path("jenkins/vars/shipmark.groovy"): (
        re.compile(r"(?P<pre>@Field final String DEFAULT_PACKAGE_SHA256 = ')(?P<digest>[^'\n]*)'(?P<note>.*)$", re.M),
        "  // sha256 of {wheel}"),
}
SHA256 = re.compile(r"[0-9a-f]{64}")
REPOSITORY = "https://github.com/shipmark/shipmark"


def current_version(root: Path) -> str:
    match = VERSION_LINE.search((root / INIT).read_text())
    if not match:
        raise SystemExit(f"no __version__ line in {INIT}")
    return match.group("ver")


def pin_files(root: Path) -> List[Path]:
    found = {path for pattern in PIN_FILES for path in root.glob(pattern) if path.is_file()}
    return sorted(found)


def pins(root: Path) -> Iterator[Tuple[str, int, str]]:
    """(file, line number, version) of every place that names a shipmark version."""
    yield str(INIT), 1 + (root / INIT).read_text().split("__version__")[0].count("\n"), current_version(root)
    for path in pin_files(root):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in PIN.finditer(line):
                yield path.relative_to(root).as_posix(), number, match.group("ver")


def disagreements(root: Path, expected: str) -> List[str]:
    return [f"{name}:{line}: {found} (expected {expected})" for name, line, found in pins(root) if found != expected]


def bump_changelog(text: str, old: str, new: str, date: str) -> str:
    if f"## [{new}]" in text:
        raise SystemExit(f"CHANGELOG.md already has a {new} section")
    heading = "## [Unreleased]\n"
    if heading not in text:
        raise SystemExit("CHANGELOG.md has no '## [Unreleased]' heading")
    text = text.replace(heading, f"{heading}\n## [{new}] - {date}\n", 1)
    text = re.sub(r"^\[Unreleased\]: .*$", f"[Unreleased]: {REPOSITORY}/compare/v{new}...HEAD", text, count=1,
                  flags=re.M)
    link = f"[{new}]: {REPOSITORY}/compare/v{old}...v{new}\n"
    return re.sub(r"^(\[Unreleased\]: .*\n)", lambda m: m.group(1) + link, text, count=1, flags=re.M)


def wheel_name(version: str) -> str:
    return f"shipmark-{version}-py3-none-any.whl"


def recorded_digests(root: Path) -> List[Tuple[str, Optional[str], str]]:
    """(file, digest or None when the placeholder is missing, the note after it) per wrapper."""
    found = []
    for name, (pattern, _) in DIGESTS.items():
        matches = list(pattern.finditer((root / name).read_text()))
        found.append((name.as_posix(), matches[0].group("digest") if len(matches) == 1 else None,
                      matches[0].group("note") if len(matches) == 1 else ""))
    return found


def record_digest(root: Path, digest: str, version: str) -> List[str]:
    """Writes the wheel digest (or '' to clear it) into both wrappers; returns the files changed."""
    changed = []
    for name, (pattern, note) in DIGESTS.items():
        path = root / name
        text = path.read_text()
        if len(pattern.findall(text)) != 1:
            raise SystemExit(f"{name}: expected one placeholder matching {pattern.pattern}")
        suffix = note.format(wheel=wheel_name(version)) if digest else ""
        updated = pattern.sub(lambda m: m.group("pre") + digest + "'" + suffix, text)
        if updated != text:
            path.write_text(updated)
            changed.append(name.as_posix())
    return changed + gitlab_component.write(root)


def digest_problems(root: Path, version: str, tag: Optional[str], wheel: Optional[Path]) -> List[str]:
    """What is wrong with the recorded wheel digests, for this version (and tag, and wheel)."""
    problems = []
    recorded = recorded_digests(root)
    for name, digest, note in recorded:
        if digest is None:
            problems.append(f"{name}: no single wheel digest placeholder")
        elif digest and not SHA256.fullmatch(digest):
            problems.append(f"{name}: wheel digest {digest!r} is not a sha256 (64 lowercase hex digits)")
        elif digest and wheel_name(version) not in note:
            problems.append(f"{name}: the wheel digest does not name {wheel_name(version)}: "
                            "run scripts/bump_version.py --record-digest")
    digests = {digest for _, digest, _ in recorded if digest is not None}
    if len(digests) > 1:
        problems.append("the wrappers record different wheel digests: run scripts/bump_version.py --record-digest")
    if tag and digests == {""}:
        problems.append(f"no wheel digest recorded for {tag}: run scripts/bump_version.py --record-digest")
    if wheel is not None:
        actual = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if wheel.name != wheel_name(version):
            problems.append(f"{wheel.name} is not {wheel_name(version)}")
        if digests != {actual}:
            problems.append(f"{wheel.name} has sha256 {actual}, the wrappers record "
                            f"{' / '.join(sorted(digests)) or 'nothing'}: not the wheel the wrappers install")
    return problems


def build_wheel(root: Path, outdir: Path) -> Path:
    """The wheel, built with the locked build backend in a fresh virtualenv."""
    venv = outdir / "build-venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)], check=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # SOURCE_DATE_EPOCH would change the timestamps inside the wheel, hence its digest.
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    for step in (["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--require-hashes",
                  "--only-binary", ":all:", "-r", str(root / BUILD_LOCK)],
                 ["-m", "build", "--wheel", "--no-isolation", "--outdir", str(outdir / "dist"), str(root)]):
        proc = subprocess.run([str(python), *step], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode:
            raise SystemExit(f"{proc.stdout}\nbuilding the wheel failed: python {' '.join(step)}")
    (wheel,) = (outdir / "dist").glob("shipmark-*.whl")
    return wheel


def record_built_digest(root: Path) -> List[str]:
    version = current_version(root)
    with tempfile.TemporaryDirectory(prefix="shipmark-release-") as tmp:
        wheel = build_wheel(root, Path(tmp))
        if wheel.name != wheel_name(version):
            raise SystemExit(f"built {wheel.name}, expected {wheel_name(version)}")
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    print(f"{wheel_name(version)} sha256 {digest}")
    return record_digest(root, digest, version)


def bump(root: Path, new: str, date: str) -> List[str]:
    """Writes the new version everywhere; returns the files it changed."""
    if not re.fullmatch(VERSION, new):
        raise SystemExit(f"not a release version: {new!r} (expected X.Y.Z)")
    old = current_version(root)
    changelog = root / CHANGELOG
    new_changelog = bump_changelog(changelog.read_text(), old, new, date)  # refuses before anything is written
    # The old version's digest goes first: once the pins move, it would seem to name the new one.
    changed = record_digest(root, "", old)
    init = root / INIT
    init.write_text(VERSION_LINE.sub(f'__version__ = "{new}"', init.read_text(), count=1))
    changed.append(str(INIT))
    for path in pin_files(root):
        text = path.read_text()
        updated = PIN.sub(lambda m: m.group("pre") + new, text)
        if updated != text:
            path.write_text(updated)
            changed.append(path.relative_to(root).as_posix())
    changelog.write_text(new_changelog)
    changed.append(str(CHANGELOG))
    changed.extend(gitlab_component.write(root))
    changed.extend(record_built_digest(root))
    return sorted(set(changed))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("version", nargs="?", help="the new version, X.Y.Z")
    parser.add_argument("--check", action="store_true", help="only check that every pin agrees")
    parser.add_argument("--tag", help="with --check: the tag being released (vX.Y.Z) must name the version too, "
                        "and a wheel digest must be recorded")
    parser.add_argument("--wheel", type=Path, help="with --check: this wheel must be the one whose digest is recorded")
    parser.add_argument("--record-digest", action="store_true",
                        help="build the wheel of the current version and record its sha256 in the wrappers")
    parser.add_argument("--date", default=datetime.date.today().isoformat(), help="release date for CHANGELOG.md")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check + bool(args.version) + args.record_digest != 1:
        parser.error("give one of: a new version, --check, --record-digest")
    if (args.tag or args.wheel) and not args.check:
        parser.error("--tag and --wheel go with --check")
    if args.record_digest:
        for name in sorted(set(record_built_digest(args.root))):
            print(f"updated {name}")
        return 0
    if args.check:
        expected = current_version(args.root)
        problems = disagreements(args.root, expected)
        if args.tag and args.tag != f"v{expected}":
            problems.append(f"tag {args.tag} does not name version {expected} (expected v{expected})")
        problems.extend(digest_problems(args.root, expected, args.tag, args.wheel))
        problems.extend(f"{name} is out of date: run scripts/gitlab_component.py"
                        for name in gitlab_component.stale(args.root))
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for name in bump(args.root, args.version, args.date):
        print(f"updated {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

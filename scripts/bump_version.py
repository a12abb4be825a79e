#!/usr/bin/env python3
"""One version everywhere: bump it, or check that every place naming it agrees.

    python scripts/bump_version.py 0.2.0         # bump, and move CHANGELOG's Unreleased to 0.2.0
    python scripts/bump_version.py --check        # exit 1 when a pin disagrees with __version__
    python scripts/bump_version.py --check --tag v0.2.0   # ... or with the tag being released

The places: src/shipmark/__init__.py, the GitLab template's default `package` (and the
component copy under templates/, regenerated), the Jenkins step's default package and its
help, and every snippet in README.md, CONTRIBUTING.md and docs/ that pins shipmark
(`@vX.Y.Z`, `ref: vX.Y.Z`, `shipmark@vX.Y.Z`, `shipmark==X.Y.Z`, `shipmark-X.Y.Z-py3-none-any.whl`,
`` `vX.Y.Z` ``).
CHANGELOG.md keeps its history; a bump only adds the new version's heading.
"""
from __future__ import annotations

import argparse
import datetime
import re
import sys
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


def bump(root: Path, new: str, date: str) -> List[str]:
    """Writes the new version everywhere; returns the files it changed."""
    if not re.fullmatch(VERSION, new):
        raise SystemExit(f"not a release version: {new!r} (expected X.Y.Z)")
    old = current_version(root)
    changelog = root / CHANGELOG
    new_changelog = bump_changelog(changelog.read_text(), old, new, date)  # refuses before anything is written
    changed = []
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
    return sorted(set(changed))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("version", nargs="?", help="the new version, X.Y.Z")
    parser.add_argument("--check", action="store_true", help="only check that every pin agrees")
    parser.add_argument("--tag", help="with --check: the tag being released (vX.Y.Z) must name the version too")
    parser.add_argument("--date", default=datetime.date.today().isoformat(), help="release date for CHANGELOG.md")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check == bool(args.version):
        parser.error("give either a new version or --check")
    if args.check:
        expected = current_version(args.root)
        problems = disagreements(args.root, expected)
        if args.tag and args.tag != f"v{expected}":
            problems.append(f"tag {args.tag} does not name version {expected} (expected v{expected})")
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

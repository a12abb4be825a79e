#!/usr/bin/env python3
"""Print the CHANGELOG.md section of one version (the body of its GitHub release).

    python scripts/release_notes.py X.Y.Z [--changelog CHANGELOG.md]

Exits 1 when the version has no section or the section is empty, so that a release is
never published without notes.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def section(text: str, version: str) -> str:
    match = re.search(r"^## \[%s\][^\n]*\n(.*?)(?=^## \[|^\[[^\]]+\]: |\Z)" % re.escape(version), text, re.S | re.M)
    return match.group(1).strip() if match else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("version", help="X.Y.Z, or the tag vX.Y.Z")
    parser.add_argument("--changelog", type=Path, default=ROOT / "CHANGELOG.md")
    args = parser.parse_args()
    version = args.version[1:] if args.version.startswith("v") else args.version
    notes = section(args.changelog.read_text(), version)
    if not notes:
        print(f"{args.changelog.name} has no notes for {version}", file=sys.stderr)
        return 1
    print(notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())

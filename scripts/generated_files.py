"""Files generated from others in this repository: compare them, rewrite them, and the
`--check` command line every generator script shares."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Dict, List

Expected = Dict[Path, str]  # each generated file (relative to the root) and the text it must have


def stale(root: Path, expected: Expected) -> List[str]:
    """The generated files that are missing or differ from what they must be."""
    return [str(path) for path, text in expected.items()
            if not (root / path).is_file() or (root / path).read_text() != text]


def write(root: Path, expected: Expected) -> List[str]:
    """Rewrites the stale files; returns them."""
    changed = stale(root, expected)
    for name in changed:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(expected[Path(name)])
    return changed


def main(argv: List[str], root: Path, expected: Callable[[Path], Expected], script: str, usage: str) -> int:
    """`script` rewrites the generated files; `script --check` exits 1 when one is out of date."""
    if argv == ["--check"]:
        out_of_date = stale(root, expected(root))
        for name in out_of_date:
            print(f"{name} is out of date: run python {script}", file=sys.stderr)
        return 1 if out_of_date else 0
    if argv:
        print(usage.strip(), file=sys.stderr)
        return 2
    for name in write(root, expected(root)):
        print(f"wrote {name}")
    return 0

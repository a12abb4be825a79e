#!/usr/bin/env python3
"""Write a PEP 503 "simple" package index for a folder of wheels and sdists.

    python scripts/simple_index.py WHEEL_DIR INDEX_DIR
    PIP_INDEX_URL=file://$PWD/INDEX_DIR pip install shipmark==X.Y.Z

For air-gapped machines: `pip download -d WHEEL_DIR shipmark==X.Y.Z` where the index is
reachable, carry the folder over, generate the index there and point pip (or the wrappers'
installs, which honour PIP_INDEX_URL) at it. Files are copied next to their project page,
with a sha256 fragment on every link as the PEP asks.
"""
from __future__ import annotations

import hashlib
import html
import re
import shutil
import sys
from pathlib import Path
from typing import Dict, List


def project_name(filename: str) -> str:
    """The normalized project name of a wheel or sdist file name (PEP 503)."""
    if filename.endswith(".whl"):
        name = filename.split("-")[0]
    else:
        name = re.sub(r"-[0-9][^-]*\.(tar\.gz|zip)$", "", filename)
    return re.sub(r"[-_.]+", "-", name).lower()


def write_index(files_dir: Path, index_dir: Path) -> List[str]:
    projects: Dict[str, List[Path]] = {}
    for path in sorted(files_dir.iterdir()):
        if path.name.endswith((".whl", ".tar.gz", ".zip")):
            projects.setdefault(project_name(path.name), []).append(path)
    index_dir.mkdir(parents=True, exist_ok=True)
    for name, paths in projects.items():
        page = index_dir / name
        page.mkdir(exist_ok=True)
        links = []
        for path in paths:
            shutil.copy2(path, page / path.name)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            links.append(f'<a href="{html.escape(path.name)}#sha256={digest}">{html.escape(path.name)}</a><br>')
        (page / "index.html").write_text("<!DOCTYPE html>\n<html><body>\n" + "\n".join(links) + "\n</body></html>\n")
    root = [f'<a href="{name}/">{name}</a><br>' for name in sorted(projects)]
    (index_dir / "index.html").write_text("<!DOCTYPE html>\n<html><body>\n" + "\n".join(root) + "\n</body></html>\n")
    return sorted(projects)


def main(argv: List[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    names = write_index(Path(argv[0]), Path(argv[1]))
    print(f"{len(names)} projects in {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Copy the installer (installer/install.sh and installer/runtime-lock.txt) into the
wrappers that cannot read files from shipmark's checkout at run time.

    python scripts/installer_copies.py           # rewrite the copies
    python scripts/installer_copies.py --check   # exit 1 when a copy is out of date

- Jenkins: the shared library ships them as resources (jenkins/resources/shipmark/), read
  with `libraryResource`.
- GitLab: an included template is a single YAML file, so gitlab-ci/shipmark.yml carries
  them inline between marker comments (`# >>> installer/install.sh` ... `# <<<`): the
  installer's functions as one script item, and the lock as a function writing it to a
  file. templates/shipmark.yml (the CI/CD component) is then regenerated from it.

GitHub Actions source installer/ from their own checkout and need no copy.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import generated_files  # noqa: E402
import gitlab_component  # noqa: E402

INSTALLER = Path("installer/install.sh")
LOCK = Path("installer/runtime-lock.txt")
JENKINS_RESOURCES = Path("jenkins/resources/shipmark")
GITLAB_TEMPLATE = gitlab_component.SOURCE
LOCK_END = "SHIPMARK_LOCK_END"


def _gitlab_item(name: Path, text: str) -> List[str]:
    """The YAML list item (without indentation) that carries one installer file."""
    if name == INSTALLER:
        body = text.splitlines()
    else:
        if LOCK_END in text:
            raise SystemExit(f"{name} contains the here-document delimiter {LOCK_END}")
        body = (["# shipmark_write_lock FILE: writes shipmark's hash lock (installer/runtime-lock.txt) to FILE.",
                 "shipmark_write_lock() {", f"cat >\"$1\" <<'{LOCK_END}'"]
                + text.splitlines() + [LOCK_END, "}"])
    return ["- |"] + ["  " + line if line else "" for line in body]


def gitlab_text(template: str, root: Path) -> str:
    """The template with every `# >>> installer/...` block refreshed."""
    def replace(match: "re.Match[str]") -> str:
        indent, name = match.group("indent"), Path(match.group("name"))
        if name not in (INSTALLER, LOCK):
            raise SystemExit(f"{GITLAB_TEMPLATE}: unknown installer block {name}")
        item = _gitlab_item(name, (root / name).read_text())
        lines = [f"{indent}# >>> {name} (copied by scripts/installer_copies.py: edit the original)"]
        lines += [indent + line if line else "" for line in item]
        lines.append(f"{indent}# <<< {name}")
        return "\n".join(lines) + "\n"

    pattern = re.compile(r"^(?P<indent>[ ]*)# >>> (?P<name>installer/\S+).*?^(?P=indent)# <<< (?P=name)\n",
                         re.M | re.S)
    if len(pattern.findall(template)) != 2:
        raise SystemExit(f"{GITLAB_TEMPLATE} must hold one block for each of {INSTALLER} and {LOCK}")
    return pattern.sub(replace, template)


def expected(root: Path = ROOT) -> Dict[Path, str]:
    """Every copy and the text it must have."""
    copies = {JENKINS_RESOURCES / source.name: (root / source).read_text() for source in (INSTALLER, LOCK)}
    copies[GITLAB_TEMPLATE] = gitlab_text((root / GITLAB_TEMPLATE).read_text(), root)
    copies[gitlab_component.COMPONENT] = gitlab_component.render(copies[GITLAB_TEMPLATE])
    return copies


def stale(root: Path = ROOT) -> List[str]:
    return generated_files.stale(root, expected(root))


if __name__ == "__main__":
    sys.exit(generated_files.main(sys.argv[1:], ROOT, expected, "scripts/installer_copies.py", __doc__))

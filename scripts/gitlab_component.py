#!/usr/bin/env python3
"""Generate the GitLab CI/CD component (templates/shipmark.yml) from gitlab-ci/shipmark.yml.

    python scripts/gitlab_component.py           # write templates/shipmark.yml
    python scripts/gitlab_component.py --check   # exit 1 when it is out of date

GitLab's CI/CD catalog looks for components under templates/; projects that `include:` by
project or remote use gitlab-ci/shipmark.yml. One template is edited by hand, the other is
generated: a symlink would not do, because GitLab reads a symlink's link text rather than
the file it points to. Only the usage comment at the top differs.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import generated_files  # noqa: E402

SOURCE = Path("gitlab-ci/shipmark.yml")
COMPONENT = Path("templates/shipmark.yml")
USAGE_END = "# Hidden jobs to `extends:`\n"


def render(source_text: str) -> str:
    """The component file for the given template text."""
    head, sep, rest = source_text.partition(USAGE_END)
    if not sep or "ref: v" not in head:
        raise SystemExit(f"{SOURCE} lost its usage comment (expected it before {USAGE_END.strip()!r})")
    version = head.split("ref: v", 1)[1].split()[0]
    usage = (
        f"# Generated from {SOURCE} by scripts/gitlab_component.py: edit that file, then run the script.\n"
        "#\n"
        "# shipmark GitLab CI/CD component: record releases, builds and deployments.\n"
        "#\n"
        "#   include:\n"
        f"#     - component: $CI_SERVER_FQDN/shipmark/shipmark/shipmark@v{version}\n"
        "#       inputs: {environment: production}\n"
        "#\n"
    )
    return usage + sep + rest


def expected(root: Path = ROOT) -> generated_files.Expected:
    return {COMPONENT: render((root / SOURCE).read_text())}


def stale(root: Path = ROOT) -> List[str]:
    """The generated files that differ from what the source template gives."""
    return generated_files.stale(root, expected(root))


def write(root: Path = ROOT) -> List[str]:
    """Regenerates the component; returns the files that changed."""
    return generated_files.write(root, expected(root))


if __name__ == "__main__":
    sys.exit(generated_files.main(sys.argv[1:], ROOT, expected, "scripts/gitlab_component.py", __doc__))

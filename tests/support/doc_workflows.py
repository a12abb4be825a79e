"""The GitHub workflow examples of the docs: every YAML code block of README.md and docs/
with a top-level `jobs:` key. The static checks (zizmor, actionlint, the workflow schema,
yamllint) and the token-placement test read them from here, so a new example is checked
without being registered anywhere."""
from __future__ import annotations

import re
from pathlib import Path
from typing import List, Tuple

ROOT = Path(__file__).resolve().parents[2]
YAML_BLOCK = re.compile(r"```(?:yaml|yml)\n(.*?)```", re.S)


def workflow_examples(root: Path = ROOT) -> List[Tuple[str, str]]:
    """(page#n, workflow text) for each example, n counting the page's YAML blocks."""
    found = []
    for page in [root / "README.md", *sorted((root / "docs").rglob("*.md"))]:
        for n, match in enumerate(YAML_BLOCK.finditer(page.read_text())):
            if re.search(r"^jobs:", match.group(1), re.M):
                found.append((f"{page.relative_to(root).as_posix()}#{n}", match.group(1)))
    return found

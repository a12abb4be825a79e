"""Start-up cost of the CLI: median wall time of common invocations, and what they import.

Usage: python benchmarks/startup.py [runs]   (prints numbers; not a test)
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("shipmark")
CASES = {
    "shipmark --version": ["--version"],
    "shipmark context --json": ["context", "--json"],
    "shipmark deploy --dry-run (no targets)": ["deploy", "-e", "staging", "--dry-run"],
    "shipmark deploy --dry-run (file target)": ["deploy", "-e", "staging", "--dry-run", "-t", "log"],
}


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "shipmark.yml").write_text("targets:\n  log: {type: file, path: events.jsonl}\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SHIPMARK_"))}
        print(f"{'command':45} {'median ms':>10} {'min ms':>8}  ({runs} runs, {sys.executable})")
        for label, args in CASES.items():
            cwd = tmp if "file target" in label else tempfile.gettempdir()
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                subprocess.run([str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, check=True)
                times.append((time.perf_counter() - start) * 1000)
            print(f"{label:45} {statistics.median(times):10.1f} {min(times):8.1f}")
    probe = ("import sys, shipmark.cli; heavy = [m for m in ('requests', 'urllib3', 'yaml', 'pydantic') "
             "if m in sys.modules]; print('imported by `import shipmark.cli`:', heavy or 'nothing heavy')")
    subprocess.run([sys.executable, "-c", probe], check=True)


if __name__ == "__main__":
    main()

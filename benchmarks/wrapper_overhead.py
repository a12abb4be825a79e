"""Per-job overhead of the CI wrappers: what every pipeline pays before and around shipmark.

Not a test: it measures and prints a Markdown table. Exit status 1 only when a run failed.

    python benchmarks/wrapper_overhead.py [--cold-runs 3] [--warm-runs 5] [--only github,gitlab,jenkins]

What it runs, each in a fresh temporary directory with no CI variables:
- the wrapper's own install helper, unchanged: GitHub `actions/_shared/run.sh`; GitLab the
  `.shipmark-functions` of gitlab-ci/shipmark.yml (`shipmark_install; shipmark_run
  deploy`); Jenkins the `sh` script of jenkins/vars/shipmark.groovy (INSTALL + SCRIPT);
- followed by one `shipmark deploy --dry-run` through `shipmark-wrap`, as a job would.

Sources: "wheel" is the wheel built from this tree (python -m build --wheel), "source" the
tree itself (pip or uv builds a wheel first). GitHub always installs from its own checkout.
Installers: "pip" (uv not on PATH), "uv" (uv on PATH).

- cold: no virtualenv and no package cache (PIP_NO_CACHE_DIR=1, an empty UV_CACHE_DIR), as
  on a fresh hosted runner: dependencies come from the package index.
- warm: the wrapper's virtualenv restored from a cache, simulated by a pre-filled directory
  that is copied into place (the copy is timed: it stands for the cache restore). Jenkins
  keys its virtualenv on BUILD_TAG, so a new build reinstalls: warm = the same build's
  second step. GitHub likewise (RUNNER_TEMP is emptied between jobs): warm = the same job's
  second step.

Also: wheel size, and the wheel's install time into a fresh virtualenv (median of 5) with
pip (no cache) and with uv (warm uv cache, then cold).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
DROP = ("GITHUB_", "GITLAB_", "CI_", "JENKINS_", "BUILD_", "SHIPMARK_", "RUNNER_", "VIRTUAL_ENV", "PYTHON")


class Failed(Exception):
    pass


def base_env(tmp: Path, with_uv: bool) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROP) and k != "CI"}
    dirs = [d for d in env.get("PATH", "").split(os.pathsep)
            if d and not any((Path(d) / n).exists() for n in ("shipmark", "shipmark-wrap", "uv"))]
    pybin = tmp / ("python-uv-bin" if with_uv else "python-bin")
    pybin.mkdir(exist_ok=True)
    if not (pybin / "python3").exists():
        (pybin / "python3").symlink_to(Path(getattr(sys, "_base_executable", sys.executable)).resolve())
    if with_uv:
        uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
        if not Path(uv).exists():
            raise Failed("uv not found: pip install uv")
        if not (pybin / "uv").exists():
            (pybin / "uv").symlink_to(uv)
    env["PATH"] = os.pathsep.join([str(pybin)] + dirs)
    env["PIP_NO_CACHE_DIR"] = "1"
    env["SHIPMARK_SPOOL"] = str(tmp / "spool.jsonl")
    return env


def timed(cmd: List[str], cwd: Path, env: Dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=str(cwd), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    elapsed = time.perf_counter() - start
    installer = "with uv" if "uv" in Path(env["PATH"].split(os.pathsep)[0]).name else "with pip"
    if proc.returncode != 0 or "deploy" not in proc.stdout or ("installing" in proc.stdout and installer not in proc.stdout
                                                                 and "installing into" not in proc.stdout):
        raise Failed(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-3000:]}")
    return elapsed


def gitlab_script() -> str:
    text = (REPO / "gitlab-ci" / "shipmark.yml").read_text().split("\n---\n", 1)[1]
    block = text.split(".shipmark-functions:\n  script:\n    - |\n", 1)[1].split("\n\n", 1)[0]
    functions = "\n".join(line[6:] for line in block.splitlines())
    return functions + "\nshipmark_install\nshipmark_run deploy\n"


def jenkins_script() -> str:
    groovy = (REPO / "jenkins" / "vars" / "shipmark.groovy").read_text()
    install = re.search(r"String INSTALL = '''\\\n(.*?)'''", groovy, re.S).group(1)
    script = re.search(r"String SCRIPT = '''\\\n(.*?)''' \+ INSTALL \+ '''\\\n(.*?)'''", groovy, re.S)
    return (script.group(1) + install + script.group(2)).replace("\\\\", "\\")


def scenario(wrapper: str, package: str, work: Path, env: Dict[str, str]):
    """(command, the directory the wrapper installs into, env) for one run in `work`."""
    env = dict(env, UV_CACHE_DIR=str(work / "uv"))
    if wrapper != "gitlab":  # the GitLab template names the command itself: `shipmark_run deploy`
        env.update(SHIPMARK_WRAP_COMMAND="deploy", SHIPMARK_WRAP_ARGS="--dry-run")
    if wrapper == "github":
        env["RUNNER_TEMP"] = str(work / "venv")  # the action's virtualenv lives in the job's RUNNER_TEMP
        return ["bash", str(REPO / "actions" / "_shared" / "run.sh")], work / "venv", env
    script = work / f"{wrapper}.sh"
    if wrapper == "gitlab":
        script.write_text(gitlab_script())
        env.update(SHIPMARK_PACKAGE=package, SHIPMARK_VENV=str(work / "venv"), SHIPMARK_ARGS="--dry-run")
        return ["sh", str(script)], work / "venv", env
    script.write_text(jenkins_script())
    env.update(SHIPMARK_PACKAGE=package, WORKSPACE_TMP=str(work / "venv"), BUILD_TAG="bench-1")
    return ["sh", str(script)], work / "venv", env


def measure(wrapper: str, package: str, with_uv: bool, cold_runs: int, warm_runs: int, tmp: Path):
    env = base_env(tmp, with_uv)
    cold: List[float] = []
    filled: Optional[Path] = None
    for i in range(cold_runs):
        work = Path(tempfile.mkdtemp(dir=tmp))
        cmd, venv, run_env = scenario(wrapper, package, work, env)
        cold.append(timed(cmd, work, run_env))
        filled = venv
    warm: List[float] = []
    for i in range(warm_runs):
        work = Path(tempfile.mkdtemp(dir=tmp))
        cmd, venv, run_env = scenario(wrapper, package, work, env)
        start = time.perf_counter()
        shutil.copytree(filled, venv, symlinks=True)  # the cache restore
        restore = time.perf_counter() - start
        warm.append(restore + timed(cmd, work, run_env))
    return statistics.median(cold), statistics.median(warm)


def build_wheel(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    (wheel,) = out.glob("shipmark-*.whl")
    return wheel


def install_times(wheel: Path, tmp: Path, runs: int) -> Dict[str, float]:
    """Median seconds to install the wheel (with its dependencies) into a fresh virtualenv."""
    base = str(Path(getattr(sys, "_base_executable", sys.executable)).resolve())
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    results: Dict[str, List[float]] = {"pip, no cache": [], "uv, warm cache": [], "uv, no cache": []}
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROP)}
    uv_cache = tmp / "uv-cache-warm"
    for i in range(runs + 1):
        for label in results:
            venv = tmp / f"iv-{i}-{len(label)}-{label[:2]}"
            start = time.perf_counter()
            subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
            if label.startswith("pip"):
                cmd = [base, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
                       "--no-cache-dir", "--disable-pip-version-check", str(wheel)]
                run_env = env
            else:
                cache = uv_cache if "warm" in label else tmp / f"uv-cold-{i}"
                cmd = [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(wheel)]
                run_env = dict(env, UV_CACHE_DIR=str(cache))
            subprocess.run(cmd, check=True, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if i:  # the first round fills the warm uv cache and is not counted
                results[label].append(time.perf_counter() - start)
            shutil.rmtree(venv)
    return {label: statistics.median(times) for label, times in results.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--warm-runs", type=int, default=5)
    parser.add_argument("--install-runs", type=int, default=5)
    parser.add_argument("--only", default="github,gitlab,jenkins")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipmark-overhead-") as name:
        tmp = Path(name)
        wheel = build_wheel(tmp / "dist")
        print(f"wheel: {wheel.name}, {wheel.stat().st_size / 1024:.0f} KiB")
        for label, seconds in install_times(wheel, tmp, args.install_runs).items():
            print(f"wheel install into a fresh venv ({label}), median of {args.install_runs}: {seconds:.2f} s")
        print()
        print("| wrapper | from | installer | cold (median) | warm (median) |")
        print("|---|---|---|---|---|")
        failed = False
        for wrapper in args.only.split(","):
            sources = [("source", str(REPO))] if wrapper == "github" else [("wheel", str(wheel)), ("source", str(REPO))]
            for source, package in sources:
                for with_uv in (False, True):
                    try:
                        cold, warm = measure(wrapper, package, with_uv, args.cold_runs, args.warm_runs, tmp)
                        row = f"{cold:.2f} s | {warm:.2f} s"
                    except Failed as exc:
                        failed = True
                        print(exc, file=sys.stderr)
                        row = "failed | failed"
                    print(f"| {wrapper} | {source} | {'uv' if with_uv else 'pip'} | {row} |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

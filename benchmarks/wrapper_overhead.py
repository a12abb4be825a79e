"""Per-job overhead of the CI wrappers: what every pipeline pays before and around shipmark.

Not a test: it measures and prints Markdown tables. Exit status 1 only when a run failed.

    python benchmarks/wrapper_overhead.py [--runs 5] [--only github,gitlab,jenkins] [--installers pip,uv]

Each run is one simulated CI job in a fresh temporary directory, with no CI variables and
the real interpreter (not a pyenv shim): the wrapper's own shell, unchanged, installs
shipmark through installer/install.sh and runs one `shipmark deploy --dry-run`:
- GitHub: `bash actions/_shared/run.sh` (shipmark from the action's checkout);
- GitLab: the `.shipmark-functions` script items of gitlab-ci/shipmark.yml, then
  `shipmark_install && shipmark_run deploy`;
- Jenkins: the `sh` script jenkins/vars/shipmark.groovy assembles (SCRIPT_HEAD, the
  installer resource, SCRIPT_BODY) with the environment the step sets.
GitLab and Jenkins install their default package as it will be once released: the wheel
built from this tree, pinned by its sha256 (written into the copy of the script that runs)
and found through PIP_FIND_LINKS/UV_FIND_LINKS; the dependencies come from the public
index, hash-checked against installer/runtime-lock.txt. No pip configuration file, no pip
HTTP cache (PIP_NO_CACHE_DIR=1) and no uv cache (the installer passes --no-cache).

Columns:
- cold: a new job with an empty wheel cache: dependencies are downloaded.
- warm: a new job whose wheel cache was restored (pip only: with uv the installer uses no
  cache, so warm is cold). The restore is simulated by copying a filled directory into
  place, and the copy is timed; Jenkins' cache lives on the agent and needs no restore.
  Restore + verify (pip re-hashes every wheel against the lock) + install + one deploy.
- later step: a second shipmark step of the same job (or Jenkins build), which reuses the
  job's virtualenv.
Rows "from source" (GitLab, Jenkins): `package` set to this tree, which pip or uv builds
into a wheel first; the user's own package bypasses the lock, so it has no wheel cache.
Targets (issue 15): warm <= 1 s, cold <= 3 s.

Also: the wheel's size, and its install time with its dependencies into a fresh
virtualenv (median of --runs) with pip (no cache) and uv (no cache).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[1]
DROP = ("GITHUB_", "GITLAB_", "CI_", "JENKINS_", "BUILD_", "SHIPMARK_", "RUNNER_", "VIRTUAL_ENV", "PYTHON",
        "PIP_", "UV_")
PYTHON = str(Path(getattr(sys, "_base_executable", sys.executable)).resolve())
LOCK = REPO / "installer" / "runtime-lock.txt"
COLD_TARGET, WARM_TARGET = 3.0, 1.0


class Failed(Exception):
    pass


def version() -> str:
    return re.search(r'__version__ = "([^"]+)"', (REPO / "src/shipmark/__init__.py").read_text()).group(1)


def base_env(tmp: Path, installer: str, wheel_dir: Path) -> Dict[str, str]:
    """No CI variables, python3 = the real interpreter, uv on PATH only for the uv runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROP) and k != "CI"}
    dirs = [d for d in env.get("PATH", "").split(os.pathsep)
            if d and not any((Path(d) / n).exists() for n in ("shipmark", "shipmark-wrap", "uv"))]
    bindir = tmp / f"bin-{installer}"
    if not bindir.exists():
        bindir.mkdir()
        (bindir / "python3").symlink_to(PYTHON)
        if installer == "uv":
            uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
            if not Path(uv).exists():
                raise Failed("uv not found: pip install uv")
            (bindir / "uv").symlink_to(Path(uv).resolve())
    env.update(PATH=os.pathsep.join([str(bindir), *dirs]), PIP_CONFIG_FILE=os.devnull, PIP_NO_CACHE_DIR="1",
               UV_NO_CONFIG="1", PIP_FIND_LINKS=str(wheel_dir), UV_FIND_LINKS=str(wheel_dir),
               SHIPMARK_SPOOL=str(tmp / "spool.jsonl"), SHIPMARK_INSTALLER=installer)
    return env


def gitlab_script(digest: str) -> str:
    """The template's shell functions (with the release digest filled in), then one deploy."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!reference", lambda loader, node: loader.construct_sequence(node))
    template = list(yaml.load_all((REPO / "gitlab-ci" / "shipmark.yml").read_text(), Loader=Loader))[1]
    functions = "\n".join(template[".shipmark-functions"]["script"])
    functions, found = re.subn(r"shipmark_default_sha256='[^']*'", f"shipmark_default_sha256='{digest}'", functions)
    if found != 1:
        raise Failed("gitlab-ci/shipmark.yml: no shipmark_default_sha256='' placeholder")
    return functions + '\nshipmark_install "$SHIPMARK_REUSE" && shipmark_run deploy\n'


def jenkins_script() -> str:
    groovy = (REPO / "jenkins" / "vars" / "shipmark.groovy").read_text()
    parts = [re.search(rf"String {name} = '''\\\n(.*?)'''", groovy, re.S) for name in ("SCRIPT_HEAD", "SCRIPT_BODY")]
    if not all(parts):
        raise Failed("jenkins/vars/shipmark.groovy: SCRIPT_HEAD or SCRIPT_BODY not found")
    head, body = (part.group(1).replace("\\\\", "\\") for part in parts)
    return head + (REPO / "jenkins" / "resources" / "shipmark" / "install.sh").read_text() + body


class Job:
    """One simulated CI job of one wrapper: its directories, its command and its environment."""

    def __init__(self, wrapper: str, root: Path, env: Dict[str, str], scripts: Dict[str, str], source: str):
        self.wrapper, self.root = wrapper, root
        self.stdout = ""
        self.env = dict(env, HOME=str(root / "home"))
        (root / "home").mkdir(parents=True)
        self.cwd = root / "checkout"
        self.cwd.mkdir()
        if wrapper == "github":
            self.wheels = root / "tmp" / "shipmark-wheels"
            self.env.update(RUNNER_TEMP=str(root / "tmp"), SHIPMARK_WRAP_WHEEL_CACHE=str(self.wheels),
                            SHIPMARK_WRAP_PYTHON=PYTHON, SHIPMARK_WRAP_COMMAND="deploy", SHIPMARK_WRAP_ARGS="--dry-run")
            (root / "tmp").mkdir(mode=0o700)
            self.command = ["bash", str(REPO / "actions" / "_shared" / "run.sh")]
            return
        script = root / f"{wrapper}.sh"
        script.write_text(scripts[wrapper])
        self.command = ["sh", str(script)]
        if wrapper == "gitlab":
            self.wheels = self.cwd / ".shipmark-cache"
            self.env.update(SHIPMARK_VENV=str(self.cwd / ".shipmark-venv"), SHIPMARK_CACHE_DIR=str(self.wheels),
                            SHIPMARK_ARGS="--dry-run", CI_JOB_ID="1", SHIPMARK_REUSE="")
            if source.startswith("user:"):
                self.env["SHIPMARK_PACKAGE"] = source[len("user:"):]
        else:
            self.wheels = root / "home" / ".cache" / "shipmark"
            (root / "ws@tmp").mkdir()
            shutil.copy(LOCK, root / "ws@tmp" / "shipmark-runtime-lock.txt")
            self.env.update(SHIPMARK_INSTALL_SOURCE=source, SHIPMARK_INSTALL_TMP=str(root / "ws@tmp"), SHIPMARK_BUILD_VENV="",
                            SHIPMARK_INSTALL_LOCK=str(root / "ws@tmp" / "shipmark-runtime-lock.txt"),
                            SHIPMARK_WRAP_COMMAND="deploy", SHIPMARK_WRAP_ARGS="--dry-run",
                            WORKSPACE=str(self.cwd), BUILD_TAG="bench-1")

    def run(self, expect: str) -> float:
        start = time.perf_counter()
        proc = subprocess.run(self.command, cwd=str(self.cwd), env=self.env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        elapsed = time.perf_counter() - start
        self.stdout = proc.stdout
        if proc.returncode != 0 or '"operation": "deploy"' not in proc.stdout or expect not in proc.stdout:
            raise Failed(f"{self.wrapper}: {' '.join(self.command)} exited {proc.returncode}, "
                         f"expected {expect!r} in:\n{proc.stdout[-3000:]}")
        return elapsed

    def later_step(self) -> float:
        if self.wrapper == "gitlab":
            self.env["SHIPMARK_REUSE"] = "reuse"  # what .shipmark-track's after_script does
        if self.wrapper == "jenkins":  # the path the first step printed, as the Groovy side keeps it
            self.env["SHIPMARK_BUILD_VENV"] = re.search(r"^shipmark-venv: (.*)$", self.stdout, re.M).group(1)
        return self.run("")


def measure(wrapper: str, installer: str, runs: int, tmp: Path, scripts: Dict[str, str], source: str,
            wheel_dir: Path) -> Dict[str, float]:
    env = base_env(tmp, installer, wheel_dir)
    timings: Dict[str, List[float]] = {"cold": [], "warm": [], "later step": []}
    filled: Optional[Path] = None
    installing = f"with {installer}"
    for _ in range(runs):
        job = Job(wrapper, Path(tempfile.mkdtemp(dir=tmp)), env, scripts, source)
        timings["cold"].append(job.run(installing))
        timings["later step"].append(job.later_step())
        filled = job.wheels
    if source.startswith("user:"):
        timings["warm"] = timings["cold"]  # the user's own package bypasses the lock and its cache
    elif installer == "pip":
        for _ in range(runs):
            job = Job(wrapper, Path(tempfile.mkdtemp(dir=tmp)), env, scripts, source)
            start = time.perf_counter()
            shutil.copytree(filled, job.wheels, symlinks=True)  # the cache restore
            restore = time.perf_counter() - start if wrapper != "jenkins" else 0.0
            timings["warm"].append(restore + job.run("from the wheel cache"))
    else:
        timings["warm"] = timings["cold"]
    return {name: statistics.median(values) for name, values in timings.items()}


def build_wheel(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    (wheel,) = out.glob("shipmark-*.whl")
    return wheel


def install_times(wheel: Path, tmp: Path, runs: int) -> Dict[str, float]:
    """Median seconds to install the wheel with its dependencies into a fresh virtualenv."""
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    env = dict({k: v for k, v in os.environ.items() if not k.startswith(DROP)}, PIP_CONFIG_FILE=os.devnull)
    commands: Dict[str, Callable[[Path], List[str]]] = {
        "pip, no cache": lambda venv: [PYTHON, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                                       "--quiet", "--no-cache-dir", "--disable-pip-version-check", str(wheel)],
        "uv, no cache": lambda venv: [uv, "pip", "install", "--quiet", "--no-cache", "--python",
                                      str(venv / "bin" / "python"), str(wheel)],
    }
    results: Dict[str, List[float]] = {label: [] for label in commands}
    for i in range(runs):
        for label, command in commands.items():
            venv = tmp / f"install-{i}-{label[:2]}"
            start = time.perf_counter()
            subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True)
            subprocess.run(command(venv), check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            results[label].append(time.perf_counter() - start)
            shutil.rmtree(venv)
    return {label: statistics.median(times) for label, times in results.items()}


def verdict(seconds: float, target: float) -> str:
    return f"{seconds:.2f} s {'(met)' if seconds <= target else '(over)'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="jobs per cell (medians)")
    parser.add_argument("--only", default="github,gitlab,jenkins")
    parser.add_argument("--installers", default="pip,uv")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipmark-overhead-") as name:
        tmp = Path(name)
        wheel = build_wheel(tmp / "dist")
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        source = f"release:shipmark=={version()}:{digest}"
        print(f"wheel: {wheel.name}, {wheel.stat().st_size / 1024:.0f} KiB, sha256 {digest}")
        print(f"interpreter: {PYTHON}")
        for label, seconds in install_times(wheel, tmp, args.runs).items():
            print(f"wheel + dependencies into a fresh virtualenv ({label}), median of {args.runs}: {seconds:.2f} s")
        scripts = {"gitlab": gitlab_script(digest), "jenkins": jenkins_script()}
        print()
        print(f"| wrapper | from | installer | cold (target <= {COLD_TARGET:.0f} s) | warm (target <= {WARM_TARGET:.0f} s) "
              "| later step, same job |")
        print("|---|---|---|---|---|---|")
        failed = False
        for wrapper in args.only.split(","):
            # GitHub runs from its own checkout; GitLab and Jenkins install the released wheel by
            # default, or the source tree when `package` names it (built by pip or uv, unlocked).
            kinds = [("checkout", source)] if wrapper == "github" else [("wheel", source), ("source", f"user:{REPO}")]
            for kind, job_source in kinds:
                for installer in args.installers.split(","):
                    try:
                        t = measure(wrapper, installer, args.runs, tmp, scripts, job_source, wheel.parent)
                        row = (f"{verdict(t['cold'], COLD_TARGET)} | {verdict(t['warm'], WARM_TARGET)} | "
                               f"{t['later step']:.2f} s")
                    except Failed as exc:
                        failed = True
                        print(exc, file=sys.stderr)
                        row = "failed | failed | failed"
                    print(f"| {wrapper} | {kind} | {installer} | {row} |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

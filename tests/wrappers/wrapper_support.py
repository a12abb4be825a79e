"""Helpers for the wrapper tests: tool lookup, a fake ReleaseBits server, a scratch repo.

Every test here runs a wrapper under its real executor (act, gitlab-ci-local, groovy) or a
linter. A missing tool is a failure, never a skip: `.ci/run` installs them all.
"""
from __future__ import annotations

import json
import re
import os
import shutil
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
NODE_BIN = HERE / "node_modules" / ".bin"

# What a scratch copy of the project needs to build and run the wrappers.
PROJECT_FILES = ("action.yml", "actions", "installer", "gitlab-ci", "jenkins", "src", "pyproject.toml", "README.md")

# A deploy script that fails when DEPLOY_FAIL=1.
DEPLOY_SH = '#!/bin/sh\necho "deploying"\n[ "${DEPLOY_FAIL:-}" != 1 ]\n'


def tool(name: str) -> str:
    """Absolute path of an executor or linter; fails the test when it is not installed."""
    search = os.pathsep.join([str(Path(sys.executable).parent), str(NODE_BIN), os.environ.get("PATH", "")])
    found = shutil.which(name, path=search)
    if not found:
        pytest.fail(f"{name} is not installed: run the install lines of .ci/run", pytrace=False)
    return found


def clean_env(**extra: str) -> Dict[str, str]:
    """The test process's environment without CI or shipmark variables that would leak in."""
    drop = ("SHIPMARK_", "GITHUB_", "GITLAB_", "CI_", "RUNNER_", "ACTIONS_", "JENKINS_", "BUILD_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and k not in ("CI", "WORKSPACE")}
    env.update(extra)
    return env


def run(cmd: List[str], *, cwd: Path, env: Optional[Dict[str, str]] = None, timeout: float = 300,
        check: bool = True) -> subprocess.CompletedProcess:
    """Run a command with stdin closed; on failure show its output in the assertion."""
    proc = subprocess.run(cmd, cwd=str(cwd), env=env if env is not None else clean_env(),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-12000:]}", pytrace=False)
    return proc


def make_repo(dest: Path, extra: Dict[str, str] = None) -> Path:
    """A git repository holding a copy of the project (plus extra files), as a user's would."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    for rel, text in (extra or {}).items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if rel.endswith(".sh"):
            path.chmod(0o755)
    git = ["git", "-c", "user.name=shipmark tests", "-c", "user.email=tests@example.invalid",
           "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
    run(git + ["init", "-q"], cwd=dest)
    run(git + ["add", "-A"], cwd=dest)
    run(git + ["commit", "-q", "-m", "fixture"], cwd=dest)
    return dest


class FakeReleaseBits:
    """A loopback ReleaseBits API: records every request, answers like the real service.
    BuildMaster's release and build creation are answered alike (an object with an id;
    lookups find nothing), so the sample config's two services can share it."""

    def __init__(self) -> None:
        self.requests: List[dict] = []
        self.fail_with: Optional[int] = None  # answer POSTs with this status instead of 201
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def _record(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                entry = {"method": self.command, "path": self.path, "headers": dict(self.headers), "json": body}
                outer.requests.append(entry)
                return entry

            def _answer(self, status: int, payload) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._record()
                self._answer(200, [])

            def do_POST(self):
                entry = self._record()
                if outer.fail_with:
                    self._answer(outer.fail_with, {"detail": "rejected by the fake server"})
                else:
                    entry["answer_id"] = str(uuid.uuid4())
                    self._answer(201, {"id": entry["answer_id"]})

            do_PUT = do_PATCH = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def posts(self, prefix: str = "/components/") -> List[dict]:
        """Writes under a path prefix: ReleaseBits' by default, "/api/" for BuildMaster's."""
        return [r for r in self.requests if r["method"] != "GET" and r["path"].startswith(prefix)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def version() -> str:
    for line in (REPO / "src" / "shipmark" / "__init__.py").read_text().splitlines():
        if line.startswith("__version__"):
            return line.split('"')[1]
    raise AssertionError("no __version__")


def snippet(name: str) -> str:
    """A code block of docs/wrappers.md, marked `<!-- snippet: NAME -->`."""
    text = (REPO / "docs" / "wrappers.md").read_text()
    match = re.search(r"<!-- snippet: %s -->\s*```[a-z]*\n(.*?)```" % re.escape(name), text, re.S)
    assert match, f"docs/wrappers.md has no snippet {name!r}"
    return match.group(1)


# The sample shipmark.yml the docs' snippets read (ReleaseBits, BuildMaster, a file).
CONFIG = snippet("config")


def sample_config_env(server_url: str, events_file: Path) -> Dict[str, str]:
    """Point the sample config's services at the fake server (which answers BuildMaster's
    paths too) and its file target at events_file, as SHIPMARK_TARGET_* overrides."""
    return {"SHIPMARK_TARGET_RB_URL": server_url, "SHIPMARK_TARGET_BM_URL": server_url,
            "SHIPMARK_TARGET_LOG_PATH": str(events_file)}


def path_without_shipmark(tmp: Path) -> str:
    """PATH with no `shipmark`, `shipmark-wrap` or `uv` on it (the installs prefer uv when they
    find it), but with python3 (the base interpreter) first."""
    pybin = tmp / "python-only"
    pybin.mkdir(exist_ok=True)
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    link = pybin / "python3"
    if not link.exists():
        link.symlink_to(base)
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not any((Path(d) / name).exists() for name in ("shipmark", "shipmark-wrap", "uv"))]
    path = os.pathsep.join([str(pybin)] + dirs)
    assert not any(shutil.which(name, path=path) for name in ("shipmark", "shipmark-wrap", "uv"))
    return path


def path_without_python(tmp: Path) -> str:
    """PATH of an image or agent with a shell and the usual tools but no python3 (nor
    shipmark, uv or pip): one directory of links to everything else in /usr/bin and /bin."""
    bindir = tmp / "no-python-bin"
    bindir.mkdir(exist_ok=True)
    unwanted = ("python", "pip", "shipmark", "uv", "pydoc", "2to3", "idle")
    for folder in (Path("/usr/bin"), Path("/bin")):
        for entry in sorted(folder.iterdir()):
            link = bindir / entry.name
            if entry.name.startswith(unwanted) or link.exists() or link.is_symlink():
                continue
            link.symlink_to(entry)
    path = str(bindir)
    assert shutil.which("sh", path=path) and shutil.which("python3", path=path) is None
    return path


def unreachable_index(tmp: Path) -> Dict[str, str]:
    """pip and uv settings that force a download from an index nobody answers: no config
    file (a local find-links would satisfy the install), no cache, no retries."""
    return {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_CONFIG_FILE": os.devnull, "PIP_NO_CACHE_DIR": "1",
            "PIP_RETRIES": "0", "PIP_TIMEOUT": "2", "PIP_DEFAULT_TIMEOUT": "2", "PIP_FIND_LINKS": "",
            "UV_NO_CONFIG": "1", "UV_NO_CACHE": "1", "UV_CACHE_DIR": str(tmp / "uv-cache"), "HOME": str(tmp / "home"),
            # pip's full log, whatever --quiet: it shows that the index was really asked.
            "PIP_LOG": str(tmp / "pip.log")}


def index_was_tried(tmp: Path, output: str) -> bool:
    """Did pip (its log under tmp) or uv (its error in output) try the unreachable index?"""
    pip_log = tmp / "pip.log"
    return "127.0.0.1:9" in output or (pip_log.exists() and "127.0.0.1:9" in pip_log.read_text())


# A target whose type does not exist: shipmark exits 2 with a config error on every command.
BROKEN_TARGET = {"SHIPMARK_TARGET_BAD_TYPE": "bogus"}


def path_with_shipmark() -> str:
    """PATH with the test environment's shipmark and shipmark-wrap first (shipmark "from the image")."""
    found = tool("shipmark-wrap")
    return os.pathsep.join([str(Path(found).parent), os.environ.get("PATH", "")])


RECORDED_ENV = ("SHIPMARK_ENVIRONMENT", "SHIPMARK_VERSION", "SHIPMARK_FAIL_ON_ERROR", "SHIPMARK_TOKEN")


def write_recorder(tmp: Path) -> Path:
    """A `shipmark-wrap` (in the returned bin dir) that runs the real rule of shipmark.wrap with
    shipmark itself replaced by a recorder: argv and some variables go to RECORDER_DIR."""
    bindir = tmp / "recorder-bin"
    bindir.mkdir(exist_ok=True)
    script = bindir / "shipmark-wrap"
    script.write_text(
        f"#!{sys.executable}\n"
        "# Test stand-in for shipmark-wrap: the real rule, a recorder in place of shipmark.cli.\n"
        "import json, os, sys, types\n"
        "import shipmark\n"
        "def record(argv):\n"
        "    folder = os.environ['RECORDER_DIR']\n"
        "    with open(os.path.join(folder, 'argv.json'), 'w') as out:\n"
        "        json.dump(argv, out)\n"
        "    with open(os.path.join(folder, 'env.json'), 'w') as out:\n"
        f"        json.dump({{name: os.environ.get(name, '') for name in {RECORDED_ENV!r}}}, out)\n"
        "    print('[{\"target\": \"recorder\", \"ok\": true}]')\n"
        "recorder = types.ModuleType('shipmark.cli')\n"
        "recorder.main = record\n"
        "sys.modules['shipmark.cli'] = shipmark.cli = recorder\n"
        "from shipmark.wrap import main\n"
        "main()\n")
    script.chmod(0o755)
    return bindir


def recorded(recorder_dir: Path):
    """(argv list, env dict) that the recorder received from the rule."""
    argv = json.loads((recorder_dir / "argv.json").read_text())
    env = json.loads((recorder_dir / "env.json").read_text())
    return argv, env


# The same quoted string is given to each wrapper's `args`; each must record the same event.
QUOTED_ARGS = '--meta "note=two words" -e staging'
QUOTED_COMMAND_LINE = "shipmark deploy --meta 'note=two words' -e staging"


def file_target_env(events_file: Path) -> Dict[str, str]:
    """A `log` file target, defined wholly in the environment."""
    return {"SHIPMARK_TARGET_LOG_TYPE": "file", "SHIPMARK_TARGET_LOG_PATH": str(events_file)}


def recorded_events(events_file: Path) -> List[dict]:
    return [json.loads(line) for line in events_file.read_text().splitlines()] if events_file.exists() else []


def assert_quoted_args_event(event: dict) -> None:
    """What QUOTED_ARGS must produce: one word per quoted value, the option after it applied."""
    assert (event["operation"], event["meta"], event["environment"]) == (
        "deploy", {"note": "two words"}, "staging"), event

"""Benchmarks for shipmark's performance targets: prints a Markdown table of medians and ratios.

This is not a test: it only measures and prints. Exit status is 0 whether or not the
targets are met; it is 1 only when a child process failed (non-zero exit, or a --json
result that is not ok), because then the numbers would mean nothing.

Usage:
    python benchmarks/run.py [--runs N] [--latency-ms 50] [--action] [--shipmark PATH]
    python benchmarks/run.py --runs 20 --compare-with OLD/bin/shipmark   # start-up, before vs after

    --runs N          timed runs per scenario (default 15); the slow fan-out comparison
                      uses max(3, N // 5)
    --latency-ms MS   server latency for the fan-out scenarios 4 and 5 (default 50)
    --action          also time the GitHub Action's shared script (scenario 6; installs
                      shipmark with pip, so it needs the package index)
    --shipmark PATH   the shipmark executable (default: `shipmark` next to sys.executable);
                      every baseline runs sys.executable
    --compare-with P  an earlier shipmark executable (e.g. installed from the previous commit
                      into its own virtualenv): only scenarios 1 and 2 run, each against the
                      same command of P, interleaved; met = within 5 % or 5 ms of P's median

How it measures:
- Every child runs in a fresh temporary directory (not a git repo) with os.environ minus
  GITHUB_*, GITLAB_*, CI*, JENKINS_*, BUILD_*, SHIPMARK_*, RUNNER_* and minus
  PYTHONDONTWRITEBYTECODE. That last one matters: with it set, no .pyc is ever written
  and every import recompiles from source, which is not what users see.
- Targets are configured through the environment only (SHIPMARK_TARGET_RB<n>_*, type
  releasebits), pointing at a local threaded HTTP/1.1 server started by this script that
  imitates the ReleaseBits API (GET .../deployments -> [], POST -> 201 {"id": n}) after
  sleeping a configurable latency. It counts requests by method and the peak number of
  requests in flight at once.
- Wall time is time.perf_counter() around subprocess.run (output captured). Each
  scenario runs its shipmark command and its baseline interleaved (A B A B ...) after
  one uncounted warm-up pair, so drift and cache effects hit both sides alike.

What the numbers mean (each row of the table):
 1. `shipmark --version` median wall time vs `python -c pass`. Target: <= 100 ms.
 2. `shipmark context --json` median vs `python -c pass`. Target: <= 100 ms.
 3. One deployment to one target (server latency 0 ms) vs a one-line
    `requests.post(...)` script against the same server. Target: ratio <= 1.3x. Note
    that shipmark sends 2 requests (it looks the event key up with a GET before the POST,
    so re-runs never record twice); the baseline sends 1.
 3b. The same with the server's latency at --latency-ms: on a network the event_key lookup
    costs a round trip of its own. A note gives the start-up costs that separate shipmark
    from the baseline: the interpreter, then requests, click and pydantic, cumulatively.
 4. Fan-out: 5 targets x 20 hosts = 100 events (100 POSTs and 5 GETs: one lookup per
    target), server latency --latency-ms, default concurrency vs SHIPMARK_CONCURRENCY=1.
    4a wall time, target < 1 s; 4b speed-up (one-by-one median / default median),
    target >= 5x; 4c the (target, host) order of the --json results is identical in
    every run. "peak in flight" is the most requests the server held at once.
 5. Peak RSS (ru_maxrss from os.wait4) of the same fan-out deploy; baseline is
    `python -c "import requests"`. Target: <= 60 MB (median of the runs).
 6. (--action) `bash actions/_shared/run.sh` with SHIPMARK_WRAP_COMMAND=context, a fresh
    RUNNER_TEMP (a new job) and PIP_NO_CACHE_DIR=1 (a clean runner has no pip cache):
    6a first run = install into the job's private virtualenv, target <= 15 s;
    6b the next 5 runs = later steps of the same job reusing it, target median <= 2 s.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
DROPPED_PREFIXES = ("GITHUB_", "GITLAB_", "CI", "JENKINS_", "BUILD_", "SHIPMARK_", "RUNNER_")
TOKEN = "bench-token"
HOSTS = [f"h{i:02d}" for i in range(1, 21)]
TARGETS = [f"rb{i}" for i in range(1, 6)]
MB = 1024 * 1024


class ChildFailed(Exception):
    """A child exited non-zero or reported a failed result: the benchmark is meaningless."""


# -- the fake ReleaseBits server ------------------------------------------------------------

class Stats:
    """Requests by method and the peak number in flight, thread-safe; reset before each run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.methods: Counter = Counter()
            self.in_flight = 0
            self.peak = 0
            self.next_id = 0

    def enter(self, method: str) -> int:
        with self._lock:
            self.methods[method] += 1
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.next_id += 1
            return self.next_id

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def snapshot(self) -> Tuple[Dict[str, int], int]:
        with self._lock:
            return dict(self.methods), self.peak


_DEPLOYMENTS = re.compile(r"^/components/([^/]+)/deployments(/.*)?$")


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without TCP_NODELAY, and with headers and body in two writes, Nagle's algorithm meets the
    # client's delayed ACK and adds ~40 ms to answers: the server would measure itself.
    disable_nagle_algorithm = True
    server: "ApiServer"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002  (silence access log)
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, status: int, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self._headers_buffer.append(b"\r\n" + body)  # headers and body in one write
        self.flush_headers()

    def _handle(self) -> None:
        stats = self.server.stats
        number = stats.enter(self.command)
        try:
            raw = self._read_body()
            time.sleep(self.server.latency)
            match = _DEPLOYMENTS.match(urlsplit(self.path).path)
            if match and self.command == "GET":
                self._answer(200, [])
            elif match and self.command == "POST" and match.group(2) in (None, "/"):
                try:
                    sent = json.loads(raw or b"{}")
                except ValueError:
                    sent = {}
                record = dict(sent) if isinstance(sent, dict) else {}
                record.update(id=number, component=match.group(1))
                self._answer(201, record)
            else:
                self._answer(200, {})
        finally:
            stats.leave()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ApiHandler)
        self.stats = Stats()
        self.latency = 0.0  # seconds; set per scenario

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


# -- running children -----------------------------------------------------------------------

def base_env() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_PREFIXES)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # else every import recompiles from source
    return env


def shipmark_env(url: str, targets: int = 1, concurrency: Optional[int] = None,
                 spool: Optional[Path] = None) -> Dict[str, str]:
    env = base_env()
    for i in range(1, targets + 1):
        prefix = f"SHIPMARK_TARGET_RB{i}_"
        env.update({prefix + "TYPE": "releasebits", prefix + "URL": url, prefix + "TOKEN": TOKEN,
                    prefix + "COMPONENT": f"web{i}"})
    if spool is not None:
        env["SHIPMARK_SPOOL"] = str(spool)
    if concurrency is not None:
        env["SHIPMARK_CONCURRENCY"] = str(concurrency)
    return env


def _fail(what: str, cmd: Sequence[str], code: int, stdout: str, stderr: str) -> ChildFailed:
    text = f"{what}: `{' '.join(cmd)}` exited {code}"
    if stderr.strip():
        text += "\n--- stderr ---\n" + stderr.rstrip()
    if stdout.strip():
        text += "\n--- stdout ---\n" + stdout.rstrip()[-4000:]
    return ChildFailed(text)


def timed(cmd: Sequence[str], env: Dict[str, str], cwd: Path, what: str) -> Tuple[float, str]:
    """Wall seconds of one child (perf_counter around subprocess.run) and its stdout; raises on failure."""
    start = time.perf_counter()
    proc = subprocess.run(list(cmd), env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise _fail(what, cmd, proc.returncode, proc.stdout, proc.stderr)
    return elapsed, proc.stdout


def peak_rss(cmd: Sequence[str], env: Dict[str, str], cwd: Path, what: str) -> Tuple[int, str]:
    """Peak RSS in bytes of one child (os.wait4 on the Popen's pid) and its stdout; raises on failure."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(list(cmd), env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise _fail(what, cmd, proc.returncode, stdout, stderr)
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return usage.ru_maxrss * scale, stdout


def check_results(stdout: str, what: str, expected: int) -> List[Tuple[str, Optional[str]]]:
    """Every --json result ok; returns their (target, host) order."""
    try:
        results = json.loads(stdout)
    except ValueError:
        raise ChildFailed(f"{what}: --json output is not JSON:\n{stdout[:2000]}") from None
    if not isinstance(results, list) or len(results) != expected:
        raise ChildFailed(f"{what}: expected {expected} results, got "
                          f"{len(results) if isinstance(results, list) else type(results).__name__}")
    bad = [r for r in results if not r.get("ok")]
    if bad:
        raise ChildFailed(f"{what}: {len(bad)} of {len(results)} results not ok, e.g.:\n"
                          + json.dumps(bad[0], indent=2))
    return [(r.get("target"), r.get("host")) for r in results]


class Workdir:
    """A fresh temporary directory per child (its own spool file), removed afterwards."""

    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="shipmark-bench-"))
        return self.path

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def interleaved(a: Callable[[], float], b: Callable[[], float], runs: int) -> Tuple[List[float], List[float]]:
    """A B A B ... after one uncounted warm-up pair; each callable returns seconds."""
    a(), b()
    times_a, times_b = [], []
    for _ in range(runs):
        times_a.append(a())
        times_b.append(b())
    return times_a, times_b


# -- the table --------------------------------------------------------------------------------

@dataclass
class Row:
    scenario: str
    shipmark: str
    baseline: str = "-"
    ratio: str = "-"
    target: str = "-"
    met: Optional[bool] = None
    requests: str = "-"
    in_flight: str = "-"


@dataclass
class Bench:
    args: argparse.Namespace
    server: ApiServer
    shipmark: str
    python: str = sys.executable
    rows: List[Row] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

    def requests_since_reset(self) -> Tuple[str, int]:
        methods, peak = self.server.stats.snapshot()
        return " + ".join(f"{n} {m}" for m, n in sorted(methods.items())) or "0", peak


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _startup(bench: Bench, number: int, label: str, args: List[str], json_out: bool) -> None:
    env = base_env()
    what = f"scenario {number} ({label})"

    def ours() -> float:
        with Workdir() as cwd:
            elapsed, out = timed([bench.shipmark, *args], env, cwd, what)
        if json_out:
            try:
                json.loads(out)
            except ValueError:
                raise ChildFailed(f"{what}: stdout is not JSON:\n{out[:2000]}") from None
        return elapsed

    earlier = bench.args.compare_with

    def base() -> float:
        with Workdir() as cwd:
            if earlier:  # the same command of an earlier shipmark: did a change slow start-up down?
                return timed([earlier, *args], env, cwd, f"{what} with {earlier}")[0]
            return timed([bench.python, "-c", "pass"], env, cwd, f"{what} baseline")[0]

    a, b = interleaved(ours, base, bench.args.runs)
    label = f"{number}. `shipmark {' '.join(args)}`"
    if earlier:
        # No slower than before: within 5 % or 5 ms of the earlier build's median.
        met = median(a) <= max(median(b) * 1.05, median(b) + 0.005)
        bench.rows.append(Row(f"{label} vs the same with --compare-with", ms(median(a)), ms(median(b)),
                              f"{median(a) / median(b):.2f}x", "<= 1.05x or +5 ms", met))
        return
    bench.rows.append(Row(f"{label} vs `python -c pass`", ms(median(a)),
                          ms(median(b)), f"{median(a) / median(b):.2f}x", "<= 100 ms", median(a) <= 0.100))


def scenario_version(bench: Bench) -> None:
    _startup(bench, 1, "--version", ["--version"], json_out=False)


def scenario_context(bench: Bench) -> None:
    _startup(bench, 2, "context --json", ["context", "--json"], json_out=True)


def _single(bench: Bench, label: str, latency_ms: float, runs: int) -> None:
    """One deployment to one target vs a one-line requests.post against the same server."""
    bench.server.latency = latency_ms / 1000
    url = bench.server.url
    what = f"scenario {label} (one deployment, {latency_ms:g} ms)"
    body = {"version": "1.0.0", "result": "success", "stage": "production",
            "meta_data": {"shipmark_event_key": "bench"}}
    code = ("import requests; r = requests.post(%r, json=%r, headers={'Authorization': 'Bearer %s'}); "
            "r.raise_for_status()" % (url + "/components/web1/deployments/", body, TOKEN))
    seen: List[Tuple[str, int]] = []

    def ours() -> float:
        with Workdir() as cwd:
            env = shipmark_env(url, targets=1, spool=cwd / "spool.json")
            bench.server.stats.reset()
            elapsed, out = timed([bench.shipmark, "deploy", "-e", "production", "--version", "1.0.0",
                                  "-t", "rb1", "--json"], env, cwd, what)
            seen.append(bench.requests_since_reset())
        check_results(out, what, 1)
        return elapsed

    def base() -> float:
        with Workdir() as cwd:
            return timed([bench.python, "-c", code], base_env(), cwd, f"{what} baseline")[0]

    a, b = interleaved(ours, base, runs)
    ratio = median(a) / median(b)
    bench.rows.append(Row(f"{label}. deploy, 1 target, {latency_ms:g} ms latency, vs `requests.post` script",
                          ms(median(a)), ms(median(b)), f"{ratio:.2f}x", "ratio <= 1.3x", ratio <= 1.3,
                          requests=f"{seen[-1][0]} (baseline: 1 POST)", in_flight=str(max(p for _, p in seen))))


def scenario_single(bench: Bench) -> None:
    _single(bench, "3", 0.0, bench.args.runs)


def scenario_single_latency(bench: Bench) -> None:
    """Scenario 3 again with the fan-out's server latency: what the event_key lookup costs on a network."""
    _single(bench, "3b", bench.args.latency_ms, max(3, bench.args.runs // 3))


# What a process pays before sending anything: the interpreter, then each library shipmark loads
# for a deploy, cumulatively (pydantic with the first model class, as config validation builds one).
IMPORT_STEPS = [
    ("python -c pass", "pass"),
    ("+ import requests", "import requests"),
    ("+ import click", "import requests, click"),
    ("+ pydantic (import and first model)",
     "import requests, click\nfrom pydantic import BaseModel, SecretStr\n"
     "class M(BaseModel):\n    token: SecretStr\nM(token='x')"),
]


def scenario_import_costs(bench: Bench) -> None:
    """Where scenario 3's extra time goes: medians of cumulative imports, interleaved."""
    env = base_env()
    times: Dict[str, List[float]] = {label: [] for label, _ in IMPORT_STEPS}
    with Workdir() as cwd:
        for round_ in range(bench.args.runs + 1):
            for label, code in IMPORT_STEPS:
                elapsed = timed([bench.python, "-c", code], env, cwd, f"import cost ({label})")[0]
                if round_:  # the first round warms caches
                    times[label].append(elapsed)
    previous = None
    parts = []
    for label, _ in IMPORT_STEPS:
        value = median(times[label])
        parts.append(f"{label} {ms(value)}" + (f" (+{ms(value - previous)})" if previous is not None else ""))
        previous = value
    bench.notes.append("3: start-up, cumulative medians: " + "; ".join(parts) + ".")


def _fanout_cmd(bench: Bench) -> List[str]:
    cmd = [bench.shipmark, "deploy", "-e", "production", "--version", "1.0.0", "--json"]
    for name in TARGETS:
        cmd += ["-t", name]
    for host in HOSTS:
        cmd += ["--host", host]
    return cmd


def scenario_fanout(bench: Bench) -> None:
    latency = bench.args.latency_ms / 1000
    bench.server.latency = latency
    runs = max(3, bench.args.runs // 5)
    events = len(TARGETS) * len(HOSTS)
    cmd = _fanout_cmd(bench)
    orders: List[List[Tuple[str, Optional[str]]]] = []
    stats: Dict[str, List[Tuple[str, int]]] = {"default": [], "one": []}

    def run(concurrency: Optional[int], key: str) -> float:
        what = f"scenario 4 (fan-out, {'SHIPMARK_CONCURRENCY=1' if concurrency else 'default concurrency'})"
        with Workdir() as cwd:
            env = shipmark_env(bench.server.url, targets=len(TARGETS), concurrency=concurrency,
                               spool=cwd / "spool.json")
            bench.server.stats.reset()
            elapsed, out = timed(cmd, env, cwd, what)
            stats[key].append(bench.requests_since_reset())
        orders.append(check_results(out, what, events))
        return elapsed

    a, b = interleaved(lambda: run(None, "default"), lambda: run(1, "one"), runs)
    speedup = median(b) / median(a)
    stable = all(order == orders[0] for order in orders)
    peak_default = max(p for _, p in stats["default"])
    peak_one = max(p for _, p in stats["one"])
    label = f"{len(TARGETS)} targets x {len(HOSTS)} hosts, {bench.args.latency_ms:g} ms"
    bench.rows.append(Row(f"4a. fan-out {label}: default concurrency vs SHIPMARK_CONCURRENCY=1",
                          secs(median(a)), secs(median(b)), f"{median(a) / median(b):.2f}x", "< 1 s",
                          median(a) < 1.0, requests=stats["default"][-1][0],
                          in_flight=f"{peak_default} (one-by-one: {peak_one})"))
    bench.rows.append(Row("4b. fan-out speed-up (one-by-one median / default median)", f"{speedup:.1f}x",
                          target=">= 5x", met=speedup >= 5))
    bench.rows.append(Row(f"4c. fan-out result order stable ({len(orders)} runs incl. warm-up, both modes)",
                          "yes" if stable else "NO", target="stable", met=stable))
    first = orders[0]
    by_target = [(t, h) for t in TARGETS for h in HOSTS]
    by_host = [(t, h) for h in HOSTS for t in TARGETS]
    shape = ("targets outer, hosts inner" if first == by_target else
             "hosts outer, targets inner" if first == by_host else "neither targets- nor hosts-major")
    bench.notes.append(f"4: --json result order is {shape} (as given on the command line: -t ... then --host ...).")
    if peak_one > 1:
        bench.notes.append(f"4: SHIPMARK_CONCURRENCY=1 is NOT honoured: the server saw {peak_one} requests in "
                           "flight at once during the one-by-one runs, so 4b compares default with default "
                           "and its speed-up is meaningless.")
    if bench.server.request_queue_size < peak_default:
        bench.notes.append("4: peak in flight exceeded the server's listen backlog; raise request_queue_size.")


def scenario_rss(bench: Bench) -> None:
    bench.server.latency = bench.args.latency_ms / 1000
    runs = max(3, bench.args.runs // 5)
    events = len(TARGETS) * len(HOSTS)
    cmd = _fanout_cmd(bench)
    what = "scenario 5 (peak RSS of the fan-out)"
    ours, base = [], []
    for _ in range(runs):
        with Workdir() as cwd:
            env = shipmark_env(bench.server.url, targets=len(TARGETS), spool=cwd / "spool.json")
            rss, out = peak_rss(cmd, env, cwd, what)
        check_results(out, what, events)
        ours.append(rss)
        with Workdir() as cwd:
            base.append(peak_rss([bench.python, "-c", "import requests"], base_env(), cwd, f"{what} baseline")[0])
    a, b = median(ours), median(base)
    bench.rows.append(Row(f"5. peak RSS, fan-out deploy ({len(TARGETS)} targets), vs `python -c \"import requests\"`",
                          f"{a / MB:.1f} MB", f"{b / MB:.1f} MB", f"{a / b:.2f}x", "<= 60 MB", a <= 60 * MB))


def scenario_action(bench: Bench) -> None:
    script = REPO / "actions" / "_shared" / "run.sh"
    python = bench.args.action_python
    what = "scenario 6 (GitHub Action run.sh)"
    with Workdir() as cache, Workdir() as cwd:
        env = base_env()
        env.update(RUNNER_TEMP=str(cache), SHIPMARK_WRAP_COMMAND="context", PIP_NO_CACHE_DIR="1",
                   SHIPMARK_WRAP_PYTHON=python)
        first, out = timed(["bash", str(script)], env, cwd, what + " first run")
        if "installing shipmark's dependencies" not in out:
            bench.notes.append("6a: the first run did not say it was installing: it may not be a cold install.")
        cached = []
        reinstalled = 0
        for _ in range(5):
            elapsed, out = timed(["bash", str(script)], env, cwd, what + " cached run")
            cached.append(elapsed)
            reinstalled += "reusing" not in out
    bench.rows.append(Row("6a. GitHub Action, first run (pip install, no pip cache)", secs(first),
                          target="<= 15 s", met=first <= 15))
    bench.rows.append(Row("6b. GitHub Action, later step of the same job (5 runs)", secs(median(cached)),
                          target="<= 2 s", met=median(cached) <= 2))
    bench.notes.append(f"6: interpreter for the action's virtualenv (SHIPMARK_WRAP_PYTHON): {python}")
    if reinstalled:
        bench.notes.append(f"6b: {reinstalled} of 5 'cached' runs reinstalled instead of reusing the job's "
                           "virtualenv.")


# -- main ---------------------------------------------------------------------------------------

def machine(shipmark: str) -> List[str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with Workdir() as cwd:
        version = timed([shipmark, "--version"], base_env(), cwd, "shipmark --version")[1].strip()
    return [f"- CPU: {cpu} ({os.cpu_count()} cores)",
            f"- Python: {platform.python_version()} ({sys.executable})",
            f"- OS: {platform.platform()}",
            f"- shipmark: {version} ({shipmark})"]


def render(rows: Sequence[Row]) -> str:
    header = ["scenario", "shipmark median", "baseline median", "ratio", "target", "met?",
              "requests / run", "peak in flight"]
    cells = [[r.scenario, r.shipmark, r.baseline, r.ratio, r.target,
              "-" if r.met is None else ("yes" if r.met else "**NO**"), r.requests, r.in_flight] for r in rows]
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(len(header))]
    line = lambda values: "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells)])


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Print shipmark's performance numbers (not a test).")
    parser.add_argument("--runs", type=int, default=15, help="timed runs per scenario (default 15)")
    parser.add_argument("--latency-ms", type=float, default=50.0,
                        help="server latency for the fan-out scenarios (default 50)")
    parser.add_argument("--action", action="store_true", help="also time the GitHub Action (needs the index)")
    parser.add_argument("--shipmark", default=str(Path(sys.executable).with_name("shipmark")),
                        help="shipmark executable (default: next to sys.executable)")
    parser.add_argument("--compare-with", metavar="PATH",
                        help="an earlier shipmark executable: scenarios 1 and 2 then run it as their "
                             "baseline, interleaved, and only scenarios 1 and 2 run")
    parser.add_argument("--action-python", default=os.path.realpath(getattr(sys, "_base_executable",
                                                                            sys.executable)),
                        help="interpreter the action builds its virtualenv with (default: the real "
                             "interpreter behind sys.executable, as setup-python would give)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    server = ApiServer()
    threading.Thread(target=server.serve_forever, name="fake-releasebits", daemon=True).start()
    bench = Bench(args=args, server=server, shipmark=args.shipmark)
    scenarios = [scenario_version, scenario_context, scenario_single, scenario_single_latency,
                 scenario_import_costs, scenario_fanout, scenario_rss]
    if args.compare_with:
        scenarios = [scenario_version, scenario_context]
    elif args.action:
        scenarios.append(scenario_action)
    try:
        print("\n".join(machine(args.shipmark)))
        print(f"- runs: {args.runs} per scenario ({max(3, args.runs // 5)} for 4 and 5), interleaved with the "
              f"baseline after one warm-up pair; children run without PYTHONDONTWRITEBYTECODE\n", flush=True)
        for scenario in scenarios:
            print(f"running {scenario.__name__} ...", file=sys.stderr, flush=True)
            scenario(bench)
    except ChildFailed as exc:
        if bench.rows:
            print(render(bench.rows))
        print(f"\nbenchmark aborted: a child process failed, so the numbers would mean nothing.\n{exc}",
              file=sys.stderr)
        return 1
    finally:
        server.shutdown()
        server.server_close()
    print(render(bench.rows))
    if bench.notes:
        print()
        print("\n".join(f"- {note}" for note in bench.notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())

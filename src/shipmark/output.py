"""Everything shipmark prints or writes for people and CI systems.

Human text goes to stderr, --json to stdout. In GitHub Actions: ::add-mask::,
::warning::/::error:: annotations, $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY. In
GitLab (or anywhere): an optional dotenv report named by $SHIPMARK_DOTENV. Every
string passes through redact() on its way out.

Text from a service or a user (an id, a URL, an error message) could hold a line
break followed by a workflow command (``::add-mask::``, ``::set-output``) that a CI
system would obey. So every field such text fills is ``single_line`` here, and every
line the Console writes is ``defanged``: control characters go, and a line that
would read as a workflow command without being one of shipmark's own is marked.
"""
from __future__ import annotations

import json
import os
import re
import sys
import threading
import uuid
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence

from shipmark.models import Result
from shipmark.operations import words
from shipmark.redact import redact
from shipmark.wording import count


def is_set(value: Optional[str]) -> bool:
    return bool(value and value.strip() and value.strip().lower() != "false")


# C0 and C1 controls (tab and newline included), DEL and the Unicode line separators.
_CONTROL_RUN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# What GitHub Actions reads as a workflow command: `::name ...::` and the older `##[name]`.
_COMMAND_LIKE = re.compile(r"^\s*(?:::|##\[)")


def single_line(value: Any) -> str:
    """A service's or a user's text as one line: every line break or control character becomes a space."""
    return _CONTROL_RUN.sub(" ", "" if value is None else str(value))


def defanged(text: str) -> str:
    """Each line without control characters, and none that a CI system would obey as a command."""
    lines = []
    for line in text.split("\n"):
        line = _CONTROL_RUN.sub(" ", line.replace("\t", "    "))
        lines.append("> " + line if _COMMAND_LIKE.match(line) else line)
    return "\n".join(lines)


class Console:
    """stderr for people (respecting -q/-v), stdout for --json. Thread-safe."""

    def __init__(self, *, quiet: bool = False, verbose: bool = False, json_mode: bool = False,
                 env: Optional[Mapping[str, str]] = None):
        self.quiet = quiet
        self.verbose = verbose
        self.json_mode = json_mode
        self.env = os.environ if env is None else env
        self.github = is_set(self.env.get("GITHUB_ACTIONS"))
        self._lock = threading.Lock()

    def _err(self, text: str, command: str = "") -> None:
        """Write ``text`` to stderr, after ``command``: shipmark's own workflow command, if any."""
        with self._lock:
            sys.stderr.write(command + defanged(redact(text)) + "\n")
            sys.stderr.flush()

    def info(self, text: str) -> None:
        if not self.quiet:
            self._err(text)

    def debug(self, text: str) -> None:
        if self.verbose:
            self._err(text)

    def warn(self, text: str) -> None:
        if self.quiet:  # -q: only errors on stderr
            return
        if self.github:
            self._err(_annotation(text), "::warning title=shipmark::")
        else:
            self._err(f"shipmark: warning: {text}")

    def error(self, text: str) -> None:
        if self.github:
            self._err(_annotation(text), "::error title=shipmark::")
        else:
            self._err(f"shipmark: error: {text}")

    def stdout(self, text: str) -> None:
        with self._lock:
            sys.stdout.write(defanged(redact(text)) + "\n")
            sys.stdout.flush()

    def mask_secrets(self, secrets: Iterable[str]) -> None:
        """Announce secrets to GitHub before anything else is printed."""
        if not self.github:
            return
        with self._lock:
            for secret in secrets:
                if "\n" not in secret and "\r" not in secret:
                    sys.stderr.write(f"::add-mask::{secret}\n")
            sys.stderr.flush()


def _annotation(text: str) -> str:
    # Workflow-command data escaping: %, CR and LF; other control characters go.
    escaped = redact(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return single_line(escaped)


# -- results ---------------------------------------------------------------

def results_json(results: Sequence[Result]) -> str:
    return redact(json.dumps([r.to_json_dict() for r in results], indent=2, ensure_ascii=False))


def describe(result: Result) -> str:
    """One human line for one result (every field from a service made single-line)."""
    who = single_line(result.target) + (f" [{single_line(result.host)}]" if result.host else "")
    op = words(result.operation).replace("_", " ")
    if result.skipped:
        return f"- {who}: {op} skipped: {single_line(result.message or 'not applicable')}"
    if not result.ok:
        extra = " (saved to the spool; `shipmark flush` resends it)" if result.spooled else ""
        return f"x {who}: {op} failed: {single_line(result.error)}{extra}"
    bits = []
    if result.id:
        bits.append(f"id {single_line(result.id)}")
    if result.url:
        bits.append(single_line(result.url))
    if result.remote_status:
        bits.append(f"state {single_line(result.remote_status)}")
    if result.items is not None:
        bits.append(count(len(result.items), "entry"))
    detail = f" ({', '.join(bits)})" if bits else ""
    note = f": {single_line(result.message)}" if result.message else ""
    return f"ok {who}: {op}{note}{detail}"


def _env_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def write_github(results: Sequence[Result], ok: bool, env: Mapping[str, str]) -> None:
    """$GITHUB_OUTPUT (ok, results, <name>-id, <name>-url) and a $GITHUB_STEP_SUMMARY table."""
    output = env.get("GITHUB_OUTPUT")
    if output:
        values: Dict[str, str] = {
            "ok": "true" if ok else "false",
            "results": json.dumps([r.to_json_dict() for r in results], ensure_ascii=False),
        }
        for result in results:
            if result.id:
                values.setdefault(single_line(f"{result.target}-id"), single_line(result.id))
            if result.url:
                values.setdefault(single_line(f"{result.target}-url"), single_line(result.url))
        with open(output, "a", encoding="utf-8") as fh:
            for key, value in values.items():
                value = redact(value)
                if "\n" in value:
                    marker = f"SHIPMARK_{uuid.uuid4().hex}"
                    fh.write(f"{key}<<{marker}\n{value}\n{marker}\n")
                else:
                    fh.write(f"{key}={value}\n")
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary and results:
        lines = ["### shipmark", "", "| target | operation | result | id | link |", "|---|---|---|---|---|"]
        for r in results:
            state = "skipped" if r.skipped else ("ok" if r.ok else f"failed: {r.error}")
            if r.ok and r.message:
                state += f" ({r.message})"
            link = f"[open]({r.url})" if r.url and r.url.startswith("http") else ""
            cells = [r.target + (f" [{r.host}]" if r.host else ""), r.operation.replace("_", " "),
                     state, r.id or "", link]
            lines.append("| " + " | ".join(single_line(c).replace("|", "\\|") for c in cells) + " |")
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(redact("\n".join(lines)) + "\n\n")


def write_dotenv(path: str, results: Sequence[Result], ok: bool) -> None:
    """A dotenv report (GitLab artifacts:reports:dotenv) with SHIPMARK_* variables."""
    lines = [f"SHIPMARK_OK={'true' if ok else 'false'}"]
    seen = set()
    for result in results:
        base = f"SHIPMARK_{_env_name(result.target)}"
        if base in seen:
            continue
        seen.add(base)
        if result.id:
            lines.append(f"{base}_ID={_dotenv_value(result.id)}")
        if result.url:
            lines.append(f"{base}_URL={_dotenv_value(result.url)}")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(redact("\n".join(lines)) + "\n")


def _dotenv_value(value: str) -> str:
    return " ".join(single_line(value).split())

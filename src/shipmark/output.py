"""Everything shipmark prints or writes for people and CI systems.

Human text goes to stderr, --json to stdout. In GitHub Actions: ::add-mask::,
::warning::/::error:: annotations, $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY. In
GitLab (or anywhere): an optional dotenv report named by $SHIPMARK_DOTENV. Every
string passes through redact() on its way out.
"""
from __future__ import annotations

import json
import os
import re
import sys
import threading
import uuid
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from shipmark.models import Result
from shipmark.operations import words
from shipmark.redact import redact
from shipmark.targets.items import COLUMNS, SHOWN_WHEN_DIFFERENT, SHOWN_WHEN_SET
from shipmark.wording import count


def is_set(value: Optional[str]) -> bool:
    return bool(value and value.strip() and value.strip().lower() != "false")


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

    def _err(self, text: str) -> None:
        with self._lock:
            sys.stderr.write(redact(text) + "\n")
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
            self._err(f"::warning title=shipmark::{_annotation(text)}")
        else:
            self._err(f"shipmark: warning: {text}")

    def error(self, text: str) -> None:
        if self.github:
            self._err(f"::error title=shipmark::{_annotation(text)}")
        else:
            self._err(f"shipmark: error: {text}")

    def stdout(self, text: str) -> None:
        with self._lock:
            sys.stdout.write(redact(text) + "\n")
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
    # Workflow-command data escaping: %, CR and LF.
    return redact(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


# -- results ---------------------------------------------------------------

def results_json(results: Sequence[Result]) -> str:
    return redact(json.dumps([r.to_json_dict() for r in results], indent=2, ensure_ascii=False))


def describe(result: Result) -> str:
    """One human line for one result."""
    who = result.target + (f" [{result.host}]" if result.host else "")
    op = words(result.operation).replace("_", " ")
    if result.skipped:
        return f"- {who}: {op} skipped: {result.message or 'not applicable'}"
    if not result.ok:
        extra = " (saved to the spool; `shipmark flush` resends it)" if result.spooled else ""
        return f"x {who}: {op} failed: {result.error}{extra}"
    bits = []
    if result.id:
        bits.append(f"id {result.id}")
    if result.url:
        bits.append(result.url)
    if result.remote_status:
        bits.append(f"state {result.remote_status}")
    if result.items is not None:
        bits.append(count(len(result.items), "entry"))
    detail = f" ({', '.join(bits)})" if bits else ""
    note = f": {result.message}" if result.message else ""
    return f"ok {who}: {op}{note}{detail}"


def render_table(rows: List[Dict[str, Any]], columns: Sequence[str], width: Optional[int] = None) -> str:
    """A plain text table that fits ``width`` (default: the terminal's, see table_width).

    Nothing is cut: when the table is too wide the widest columns are narrowed and their
    cells wrapped onto more lines; every column stays (one of them tells the rows apart).
    """
    header = [c.upper() for c in columns]
    body = [[" ".join(("" if row.get(c) is None else str(row.get(c))).split()) for c in columns] for row in rows]
    widths = _fit([max(len(r[i]) for r in [header] + body) for i in range(len(columns))],
                  [len(h) for h in header], table_width() if width is None else width)
    lines = []
    for cells in [header] + body:
        wrapped = [_wrap(text, w) for text, w in zip(cells, widths)]
        for depth in range(max(len(parts) for parts in wrapped)):
            parts = [p[depth] if depth < len(p) else "" for p in wrapped]
            lines.append("  ".join(v.ljust(w) for v, w in zip(parts, widths)).rstrip())
    return "\n".join(lines)


def table_width() -> Optional[int]:
    """The terminal's width ($COLUMNS first); None (no limit) when stdout is not a terminal."""
    import shutil

    if not os.environ.get("COLUMNS") and not sys.stdout.isatty():
        return None  # piped or redirected: one line per row reads and greps best
    return shutil.get_terminal_size((100, 24)).columns


def _fit(widths: List[int], least: List[int], limit: Optional[int]) -> List[int]:
    """Column widths whose sum (with 2-space gaps) fits ``limit``: the widest narrowed first,
    none below its header (or 8), so a very narrow terminal gets an over-wide table rather than a lost column."""
    widths = list(widths)
    if limit is None:
        return widths
    floor = [min(w, max(h, 8)) for w, h in zip(widths, least)]
    while sum(widths) + 2 * (len(widths) - 1) > limit:
        widest = max(range(len(widths)), key=lambda i: widths[i] - floor[i])
        if widths[widest] <= floor[widest]:
            break
        widths[widest] -= 1
    return widths


def _wrap(text: str, width: int) -> List[str]:
    import textwrap

    if len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


LIST_COLUMNS = ("target", *COLUMNS)  # a list item's columns (shipmark.targets.items), by target


def list_columns(rows: Sequence[Mapping[str, Any]]) -> Tuple[str, ...]:
    """LIST_COLUMNS plus the optional ones these rows need (shipmark.targets.items)."""
    def values(column: str) -> set:
        return {str(row.get(column)) if row.get(column) is not None else None for row in rows}

    extra = [c for c in SHOWN_WHEN_SET if values(c) - {None}]
    extra += [c for c in SHOWN_WHEN_DIFFERENT if len(values(c)) > 1]
    return (*LIST_COLUMNS, *extra)


def list_rows(results: Sequence[Result]) -> List[Dict[str, Any]]:
    rows = []
    for result in results:
        for item in result.items or []:
            row = {"target": result.target}
            row.update({k: v for k, v in item.items() if k != "raw"})
            if isinstance(row.get("commit"), str):
                row["commit"] = row["commit"][:12]
            rows.append(row)
    return rows


# -- CI integrations -----------------------------------------------------------

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
                values.setdefault(f"{result.target}-id", result.id)
            if result.url:
                values.setdefault(f"{result.target}-url", result.url)
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
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
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
    return " ".join(value.split())

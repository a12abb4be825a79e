"""What a command prints once it has its answer: the rendering decisions, in one place.

Human lines go to stderr and --json to stdout (shipmark.output.Console); after a
delivery the GitHub outputs and the dotenv report are written too. The commands hand
their results here and print nothing themselves. Importing this module stays cheap:
`shipmark context` uses it.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Sequence

from shipmark.output import Console, describe, results_json, write_dotenv, write_github
from shipmark.wording import count

if TYPE_CHECKING:  # pragma: no cover
    from shipmark.models import Event, Result

NO_TARGETS_HINT = "configure targets in shipmark.yml or SHIPMARK_TARGET_* variables"


def report(console: Console, report: Any, *, list_mode: bool = False) -> int:
    """A delivery's results: one line each (or JSON), a list's table, the CI outputs; returns the exit status."""
    if console.json_mode:
        console.stdout(results_json(report.results))
    for result in report.results:
        line = describe(result)
        if not result.ok and not result.skipped:
            # A tolerated outage is a warning; what decides the exit status is an error.
            if result.transient and report.exit_status == 0:
                console.warn(line[2:])
            else:
                console.error(line[2:])
        elif result.skipped and result.status_code is not None:
            console.warn(line[2:])  # skipped on the service's answer (e.g. a read-only token), not by choice
        elif not (list_mode and console.json_mode):
            console.info(line)
    if list_mode and not console.json_mode:
        from shipmark.tables import list_columns, list_rows, render_table

        rows = list_rows(report.results)
        if rows:
            console.stdout(render_table(rows, list_columns(rows)))
    ci_outputs(console, report.results, report.exit_status == 0)
    return int(report.exit_status)


def ci_outputs(console: Console, results: Sequence["Result"], ok: bool) -> None:
    """$GITHUB_OUTPUT and the step summary in GitHub Actions; the dotenv report named by $SHIPMARK_DOTENV."""
    if console.github:
        try:
            write_github(results, ok, console.env)
        except OSError as exc:
            console.warn(f"could not write GitHub outputs: {exc.strerror or exc}")
    dotenv = console.env.get("SHIPMARK_DOTENV")
    if dotenv:
        try:
            write_dotenv(dotenv, results, ok)
        except OSError as exc:
            console.warn(f"could not write {dotenv}: {exc.strerror or exc}")


def unsent_events(console: Console, events: Sequence["Event"]) -> int:
    """No target configured: show the event(s) shipmark would send."""
    from shipmark.models import Result

    console.info(f"shipmark: no targets configured; this is the event it would send ({NO_TARGETS_HINT})")
    payload = [e.for_target("default").to_json_dict() for e in events]
    if console.json_mode:
        results = []
        for event in payload:
            result = Result(target="default", type="print", operation=event["operation"], ok=True,
                            event_key=event["event_key"], host=event.get("host"),
                            message="no targets configured: event printed, not sent").to_json_dict()
            result["event"] = event
            results.append(result)
        console.stdout(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        console.stdout(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2, ensure_ascii=False))
    return 0


def context(console: Console, data: Mapping[str, Any]) -> None:
    """`shipmark context`: one JSON object, or aligned `key  value` lines (- for unset)."""
    if console.json_mode:
        console.stdout(json.dumps(data))
        return
    width = max(len(k) for k in data)
    for key, value in data.items():
        shown = "-" if value is None else (str(value).lower() if isinstance(value, bool) else value)
        console.stdout(f"{key.ljust(width)}  {shown}")


def targets(console: Console, rows: List[Dict[str, Any]]) -> None:
    """`shipmark targets`: each target's public config and operations."""
    if console.json_mode:
        console.stdout(json.dumps(rows, indent=2))
    elif not rows:
        console.info("no targets configured (shipmark.yml targets: or SHIPMARK_TARGET_<NAME>_<KEY> variables)")
    else:
        table = [{"name": r["name"], "type": r["type"], "url": r.get("url"),
                  "operations": " ".join(r["operations"])} for r in rows if "unresolved" not in r]
        if table:
            from shipmark.tables import render_table

            console.stdout(render_table(table, ("name", "type", "url", "operations")))
        unresolved_targets(console, {r["name"]: r["unresolved"] for r in rows if "unresolved" in r})


def unresolved_targets(console: Console, missing: Mapping[str, Sequence[str]]) -> None:
    """Targets a command cannot use here, and why (`targets`, `check`)."""
    for name, problems in missing.items():
        console.warn(f"target '{name}' cannot be used here: {', '.join(problems)}")


def discovered(console: Console, found: Any) -> int:
    """`targets --discover`: the ids a service offers, as a table (--json: the full results)."""
    if found.exit_status != 0 or console.json_mode:
        return report(console, found)
    rows = [{k: v for k, v in item.items() if k != "raw"} for r in found.results for item in (r.items or [])]
    if rows:
        columns = [c for c in ("kind", "id", "name", "detail") if any(c in row for row in rows)]
        from shipmark.tables import render_table

        console.stdout(render_table(rows, columns))
    for r in found.results:
        if not r.ok:
            console.error(r.error or "failed")
    return 0


def config_ok(console: Console, settings: Any, *, final: bool) -> None:
    """`shipmark check`: the config loaded. When that is all it checks (``final``), --json lists each target as ok."""
    where = str(settings.path) if settings.path else "no config file"
    names = list(settings.targets)
    console.info(f"config OK ({where}): {count(len(names), 'target')}{': ' + ', '.join(names) if names else ''}")
    unresolved_targets(console, {n: u.missing for n, u in settings.unresolved.items()})
    if final and console.json_mode:
        rows = [{"target": n, "type": c.type, "ok": True} for n, c in settings.targets.items()]
        # A target whose variables are unset here is not an error (a fork's PR has no secrets), but
        # scripts must see it was not checked: skipped, with the same reason as the warning.
        rows += [{"target": n, "type": u.type, "ok": True, "skipped": True,
                  "message": f"cannot be used here: {', '.join(u.missing)}"} for n, u in settings.unresolved.items()]
        console.stdout(json.dumps(rows))


def flushed(console: Console, path: Any, sent: int, kept: int, results: Sequence["Result"], *,
            dry_run: bool = False) -> int:
    """`shipmark flush`: what was resent; exit 1 when something was rejected for good."""
    if console.json_mode:
        console.stdout(results_json(results))
    if dry_run:
        console.info(f"shipmark: spool: {path}: dry run, nothing sent; {kept} would be resent")
    else:
        console.info(f"shipmark: spool: {path}: {sent} delivered, {kept} still waiting")
    return 0 if all(r.ok or r.transient for r in results) else 1


def dropped(console: Console, counts: Mapping[str, int], *, dry_run: bool = False) -> int:
    """`shipmark flush --drop`: how many entries each named target lost (or would lose)."""
    from shipmark.models import Result

    verb = "would drop" if dry_run else "dropped"
    results = []
    for name, number in counts.items():
        what = f"{verb} {count(number, 'entry', 'entries')}"
        console.info(f"shipmark: spool: {what} for target {name!r}")
        results.append(Result(target=name, type=None, operation="flush", message=what))  # type: ignore[arg-type]
    if console.json_mode:
        console.stdout(results_json(results))
    return 0


def auto_flushed(console: Console, sent: int, kept: int) -> None:
    if sent or kept:
        console.info(f"shipmark: spool: resent {sent} earlier event(s); {kept} still waiting")

"""`shipmark flush` (and the start of every delivery command): resend spooled entries."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

from shipmark import spool
from shipmark.delivery.fanout import run
from shipmark.delivery.jobs import Job, Options
from shipmark.delivery.policy import OK, SKIPPED, TRANSIENT, Outcome, Report
from shipmark.models import Result
from shipmark.operations import WRITE_OPERATIONS
from shipmark.output import Console
from shipmark.targets.base import Request


def flush(settings, options: Options, console: Console) -> Tuple[int, int, List[Result]]:
    """Resend spooled entries. Returns (delivered, still spooled, results).

    Entries are claimed first, so two processes never resend the same entry, and
    an entry a live process is still delivering is left alone. Every resend of a
    create goes through the backend's event_key lookup (create_once), so an event
    that did land before a failure or a kill is reported "already recorded"
    instead of being recorded twice. An entry that may have landed is resent only
    through such a lookup or with writes that are safe to repeat; otherwise it is
    reported and dropped (resending could duplicate it).
    """
    path = options.spool_path
    if not path or not spool.has_entries(path):
        return 0, 0, []
    dry = options.dry_run
    try:
        entries = spool.load(path) if dry else spool.claim(path)
    except OSError as exc:
        console.warn(f"spool {path}: cannot read it: {exc.strerror or exc}")
        return 0, 0, []
    plan = _plan(entries, settings, console)
    no_respool = Options(dry_run=dry, timeout=options.timeout, fail_on_error=options.fail_on_error,
                         concurrency=options.concurrency)
    report = run(plan.jobs, no_respool, console) if plan.jobs else Report()
    kept = 0
    for eid, job, outcome in zip(plan.ids, plan.jobs, report.outcomes):
        if _still_waiting(job, outcome, console, dry):
            kept += 1
            if not dry:
                try:
                    spool.release(path, eid, error=outcome.result.error or "",
                                  may_have_landed=outcome.may_have_landed)
                except OSError as exc:
                    console.warn(f"spool {path}: cannot update it: {exc.strerror or exc}")
        else:
            plan.done.append(eid)
    if not dry:
        try:
            for eid in plan.untouched:
                spool.release(path, eid, attempted=False)
            spool.remove(path, plan.done)
        except OSError as exc:
            console.warn(f"spool {path}: cannot update it: {exc.strerror or exc}")
    delivered = sum(1 for o in report.outcomes if o.kind in (OK, SKIPPED))
    return delivered, kept, report.results


@dataclass
class _Plan:
    jobs: List[Job] = field(default_factory=list)
    ids: List[str] = field(default_factory=list)  # the spool entry of each job
    done: List[str] = field(default_factory=list)  # entries to remove
    untouched: List[str] = field(default_factory=list)  # entries to give back as they were


def _plan(entries: List[Dict[str, Any]], settings, console: Console) -> _Plan:
    """A job for each entry that can be resent here; the others are kept or dropped."""
    plan = _Plan()
    by_lower = {name.lower(): name for name in settings.targets}
    for entry in entries:
        eid = spool.entry_id(entry)
        name = entry.get("target")
        if not spool.readable(entry):
            console.warn(f"spool: an entry for {name!r} was written by a newer shipmark "
                         f"(format {entry.get('v')!r}); it is kept for that version")
            plan.untouched.append(eid)
            continue
        config = settings.targets.get(name) or settings.targets.get(by_lower.get(str(name).lower(), ""))
        if config is None:
            console.warn(f"spool: target {name!r} is not configured here; its entry is kept")
            plan.untouched.append(eid)
            continue
        if entry.get("type") and entry["type"] != config.type:
            console.warn(f"spool: target {name!r} is now a {config.type} target, the entry was for "
                         f"{entry['type']}; it is kept")
            plan.untouched.append(eid)
            continue
        try:
            request = dataclasses.replace(Request.from_json_dict(entry["request"]), dry_run=False)
            if request.operation not in WRITE_OPERATIONS:
                raise ValueError(request.operation)
        except Exception:
            console.warn(f"spool: dropping an unreadable entry for {name!r}")
            plan.done.append(eid)
            continue
        # An entry whose earlier attempt may have landed is resent only through an event_key
        # lookup (or with a write that is safe to repeat): see Job.uncertain.
        plan.jobs.append(Job(config=config, request=request, explicit=True,
                             uncertain=bool(entry.get("may_have_landed"))))
        plan.ids.append(eid)
    return plan


def _still_waiting(job: Job, outcome: Outcome, console: Console, dry: bool) -> bool:
    """Report how one resend ended; True when its entry stays in the spool."""
    from shipmark.output import describe

    result = outcome.result
    if outcome.kind in (OK, SKIPPED):
        console.info("spool: " + describe(result))
        return False
    if outcome.kind == TRANSIENT:
        if outcome.may_have_landed and not outcome.verifiable and not dry:
            console.error(f"spool: {result.target}: {_what(job.request)} may have been recorded and cannot "
                          f"be checked; it is not resent again: {result.error}")
            return False
        result.spooled = True
        return True
    if outcome.unverifiable:
        console.error(f"spool: {result.target}: {_what(job.request)}: {result.error}")
    else:
        # Permanent: resending cannot help; drop it and say so.
        console.error(f"spool: {result.target} rejected a spooled event and it was dropped: {result.error}")
    return False


def _what(request: Request) -> str:
    event = request.event
    bits = [request.operation.replace("_", " ")]
    if event.version:
        bits.append(event.version)
    if event.environment:
        bits.append(f"to {event.environment}")
    if event.host:
        bits.append(f"on {event.host}")
    return " ".join(bits) + f" (event {event.event_key})"

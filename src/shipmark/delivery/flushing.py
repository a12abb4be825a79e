"""`shipmark flush` (and the start of every delivery command): resend spooled entries."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence, Tuple

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
    reported and dropped (resending could duplicate it). An entry that does not
    verify under its target's secrets is quarantined, never sent. A dry run sends
    nothing and changes nothing: it says what would be resent (counted as waiting).
    """
    path = options.spool_path
    if not path or not spool.has_entries(path):
        return 0, 0, []
    dry = options.dry_run
    try:
        entries = spool.load(path) if dry else spool.claim(path)
    except spool.UntrustedSpool as exc:
        _refused(console, path, exc)
        return 0, 0, []
    except OSError as exc:
        console.warn(f"spool: {path}: cannot read it: {exc.strerror or exc}")
        return 0, 0, []
    plan = _plan(entries, settings, console, dry)
    if dry:
        return 0, len(plan.jobs), [_would_resend(job, console) for job in plan.jobs]
    no_respool = Options(timeout=options.timeout, fail_on_error=options.fail_on_error,
                         concurrency=options.concurrency)
    report = run(plan.jobs, no_respool, console) if plan.jobs else Report()
    kept = 0
    for eid, job, outcome in zip(plan.ids, plan.jobs, report.outcomes):
        if _still_waiting(job, outcome, console):
            kept += 1
            _update(console, path, spool.release, path, eid, error=outcome.result.error or "",
                    may_have_landed=outcome.may_have_landed)
        else:
            plan.done.append(eid)
    _put_back(path, plan, console)
    delivered = sum(1 for o in report.outcomes if o.kind in (OK, SKIPPED))
    return delivered, kept, report.results


def drop(options: Options, names: Sequence[str], console: Console) -> int:
    """`flush --drop NAME`: remove the named targets' entries (a dry run only counts them)."""
    path = options.spool_path
    if not path or not spool.has_entries(path):
        counts = {name: 0 for name in names}
    else:
        try:
            counts = spool.drop_target(path, names, dry_run=options.dry_run)
        except spool.UntrustedSpool as exc:
            _refused(console, path, exc)
            return 1
        except OSError as exc:
            console.warn(f"spool: {path}: cannot update it: {exc.strerror or exc}")
            return 1
    from shipmark import render

    return render.dropped(console, counts, dry_run=options.dry_run)


def _refused(console: Console, path: Any, exc: "spool.UntrustedSpool") -> None:
    from shipmark.spool_trust import refusal

    message = refusal(path, exc)
    if message:
        console.warn(message)


def _update(console: Console, path: Any, change: Any, *args: Any, **kwargs: Any) -> None:
    try:
        change(*args, **kwargs)
    except OSError as exc:
        console.warn(f"spool: {path}: cannot update it: {exc.strerror or exc}")


def _put_back(path: Any, plan: "_Plan", console: Console) -> None:
    """After the resends: quarantine, give back what waits, remove what is done."""
    if plan.quarantined:
        try:
            where = spool.quarantine(path, [(eid, sig, why) for eid, sig, why, _ in plan.quarantined])
        except OSError as exc:
            console.warn(f"spool: {path}: cannot quarantine entries that do not verify (they are not sent): "
                         f"{exc.strerror or exc}")
        else:
            for shown, (_eid, _sig, why, what) in enumerate(plan.quarantined):
                if shown == QUARANTINE_LINES:
                    console.warn(f"spool: {len(plan.quarantined) - shown} more entries quarantined in {where}")
                    break
                console.warn(f"spool: not sending {what}: {why}; moved to {where}")
    for eid, noted in plan.untouched:
        _update(console, path, spool.release, path, eid, attempted=False, noted=noted)
    _update(console, path, spool.remove, path, plan.done)


# At most this many lines about quarantined entries in one run (someone may have planted many).
QUARANTINE_LINES = 10


@dataclass
class _Plan:
    jobs: List[Job] = field(default_factory=list)
    ids: List[str] = field(default_factory=list)  # the spool entry of each job
    done: List[str] = field(default_factory=list)  # entries to remove
    untouched: List[Tuple[str, bool]] = field(default_factory=list)  # entries to give back (id, noted)
    quarantined: List[Tuple[str, Any, str, str]] = field(default_factory=list)  # (id, sig, why, what)


def _plan(entries: List[Dict[str, Any]], settings, console: Console, dry: bool) -> _Plan:
    """A job for each entry that can be resent here; the others are kept, dropped or quarantined."""
    from shipmark.spool_trust import key_for, why_untrusted

    plan = _Plan()
    by_lower = {name.lower(): name for name in settings.targets}
    unsaid: Dict[Tuple[str, str], int] = {}  # (why it waits, target) -> entries not mentioned before
    for entry in entries:
        eid = spool.entry_id(entry)
        name = entry.get("target")
        config = settings.targets.get(name) or settings.targets.get(by_lower.get(str(name).lower(), ""))
        waiting = _why_it_waits(entry, config)
        if waiting:
            if spool.expired(entry):
                _expire(console, plan, eid, entry, dry)
            else:
                if not entry.get("noted"):  # said once; --drop or the expiry ends it
                    unsaid[(waiting, _arg(name))] = unsaid.get((waiting, _arg(name)), 0) + 1
                plan.untouched.append((eid, not dry))
            continue
        why = why_untrusted(entry, key_for(config))
        if why:
            what = f"{_raw_what(entry)} for {name!r}"
            if dry:
                console.warn(f"spool: would not send {what}: {why}; a flush without --dry-run quarantines it")
            else:
                plan.quarantined.append((eid, entry.get("sig"), why, what))
            continue
        if spool.expired(entry):
            _expire(console, plan, eid, entry, dry)
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
    for (waiting, name), count in unsaid.items():
        kept = "it is kept" if count == 1 else f"its {count} entries are kept"
        console.warn(f"spool: {waiting}; {kept} (`shipmark flush --drop {name}` removes them, else they "
                     f"expire {spool.EXPIRY_DAYS} days after they were spooled)")
    return plan


def _why_it_waits(entry: Dict[str, Any], config: Any) -> str:
    """Why an entry cannot be resent by this run but may be by another ("" when it can)."""
    name = entry.get("target")
    if not spool.readable(entry):
        return f"target {name!r} has an entry written by a newer shipmark (format {entry.get('v')!r})"
    if config is None:
        return f"target {name!r} is not configured here"
    if entry.get("type") and entry["type"] != config.type:
        return f"target {name!r} is now a {config.type} target, the entry was for {entry['type']!r}"
    return ""


def _expire(console: Console, plan: _Plan, eid: str, entry: Dict[str, Any], dry: bool) -> None:
    verb = "would drop" if dry else "dropped"
    console.warn(f"spool: {verb} {_raw_what(entry)} for {entry.get('target')!r}: not delivered within "
                 f"{spool.EXPIRY_DAYS} days of being spooled")
    if not dry:
        plan.done.append(eid)


def _arg(name: Any) -> str:
    """A target name as a shell argument (quoted unless plain)."""
    text = str(name)
    return text if text and all(c.isalnum() or c in "-_." for c in text) else repr(text)


def _raw_what(entry: Dict[str, Any]) -> str:
    """An entry's operation, version, environment and event key, from its raw fields (one line)."""
    request = entry.get("request") if isinstance(entry.get("request"), dict) else {}
    event = request.get("event") if isinstance(request.get("event"), dict) else {}
    bits = [str(request.get("operation") or "an event").replace("_", " ")]
    if event.get("version"):
        bits.append(f"version {event['version']!r}")
    if event.get("environment"):
        bits.append(f"to {event['environment']!r}")
    text = " ".join(bits) + f" (event {entry.get('event_key')!r})"
    return "".join(c if c.isprintable() else "?" for c in text)


def _would_resend(job: Job, console: Console) -> Result:
    """A dry run's answer for one entry: what would be resent, nothing sent."""
    console.info(f"shipmark: spool: would resend to {job.config.name!r}: {_what(job.request)}")
    event = job.request.event
    return Result(target=job.config.name, type=job.config.type, operation=job.request.operation, ok=True,
                  event_key=event.event_key, host=event.host, message=f"dry run: would resend {_what(job.request)}")


def _still_waiting(job: Job, outcome: Outcome, console: Console) -> bool:
    """Report how one resend ended; True when its entry stays in the spool."""
    from shipmark.output import describe

    result = outcome.result
    if outcome.kind in (OK, SKIPPED):
        console.info("shipmark: spool: " + describe(result))
        return False
    if outcome.kind == TRANSIENT:
        if outcome.may_have_landed and not outcome.verifiable:
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

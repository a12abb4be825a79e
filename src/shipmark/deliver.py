"""Fan requests out to targets, apply the failure policy, wait, spool.

One task per (target, host). Tasks run in a thread pool; results come back in
the order the targets and hosts were given. A failing target never stops the
others. The exit status follows DESIGN.md: 2 usage/unsupported, 1 permanent
failure (or a transient one on a required target / with --fail-on-error),
3 a waited-for deployment failed or timed out, else 0.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from shipmark import spool
from shipmark.config import DEFAULT_CONCURRENCY
from shipmark.errors import ApiError, ExitStatus, ShipmarkError, UnsupportedError
from shipmark.models import FAILED_STATES, Result
from shipmark.output import Console
from shipmark.targets import target_class
from shipmark.operations import WAIT_OPERATIONS, WRITE_OPERATIONS, words
from shipmark.targets.base import Request, Target, TargetConfig

# How long past the time budget a job may run before it is reported as timed out.
DEADLINE_GRACE = 2.0

# How each result ended, for the exit status.
OK, SKIPPED, USAGE, PERMANENT, TRANSIENT, REMOTE_FAILED = (
    "ok", "skipped", "usage", "permanent", "transient", "remote_failed")


@dataclass
class Options:
    dry_run: bool = False
    timeout: Optional[float] = None  # the command's budget (--timeout)
    wait: bool = False
    wait_timeout: float = 600.0
    fail_on_error: bool = False
    spool_path: Optional[object] = None  # pathlib.Path, None = no spooling
    concurrency: int = DEFAULT_CONCURRENCY


@dataclass
class Job:
    config: TargetConfig
    request: Request
    explicit: bool  # named with -t: an unsupported operation is an error, not a skip
    # A resend of a spooled event whose earlier attempt may have been recorded:
    # writes that are not safe to repeat need an event_key lookup first.
    uncertain: bool = False


@dataclass
class Outcome:
    result: Result
    kind: str
    required: bool = False
    # A transient failure of a write that may have reached the server.
    may_have_landed: bool = False
    # Will a resend look the record up by event_key first (create_once with a lookup)?
    verifiable: bool = False
    # Refused: a resend that could not be checked against the service (see Job.uncertain).
    unverifiable: bool = False


@dataclass
class Report:
    results: List[Result] = field(default_factory=list)
    outcomes: List[Outcome] = field(default_factory=list)
    exit_status: ExitStatus = ExitStatus.OK

    @property
    def ok(self) -> bool:
        return self.exit_status == ExitStatus.OK and all(o.kind in (OK, SKIPPED) for o in self.outcomes)


def select_targets(targets: Dict[str, TargetConfig], operation: str,
                   names: Sequence[str]) -> List[Tuple[TargetConfig, bool]]:
    """(config, explicit) for each target an operation goes to.

    Named targets (-t, repeatable or comma-separated, case-insensitive) are explicit:
    an operation they cannot do is an error. Otherwise every target whose backend
    has the operation; none at all is an error only when some targets exist.
    """
    from shipmark.errors import UsageError

    if names:
        lookup = {name.lower(): name for name in targets}
        chosen = []
        for part in (p.strip() for name in names for p in name.split(",")):
            if not part:
                continue
            real = lookup.get(part.lower())
            if real is None:
                known = ", ".join(targets) or "none configured"
                raise UsageError(f"--target {part!r}: no such target (configured: {known})")
            chosen.append((targets[real], True))
        return chosen
    chosen = [(cfg, False) for cfg in targets.values() if target_class(cfg.type).supports(operation)]
    if targets and not chosen:
        raise UsageError(f"no configured target supports {words(operation)} "
                         f"(configured: {', '.join(f'{n} ({c.type})' for n, c in targets.items())})")
    return chosen


def build_target(config: TargetConfig, options: Options, console: Console, budget) -> Target:
    from shipmark.http import Budget, HttpClient

    cls = target_class(config.type)
    http_kw = cls.http_options(config)
    own_budget = Budget(config.timeout) if config.timeout and options.timeout is None else budget
    read_timeout = min(15.0, own_budget.seconds)
    http = HttpClient(
        target=config.name,
        budget=own_budget,
        read_timeout=read_timeout,
        dry_run=options.dry_run,
        log=console.debug,
        show_request=lambda text: console.info(f"[dry-run] {config.name}: {text}"),
        **http_kw,
    )
    return cls(config, http)


def run(jobs: Sequence[Job], options: Options, console: Console) -> Report:
    from shipmark.http import Budget, DEFAULT_BUDGET

    budget = Budget(options.timeout or DEFAULT_BUDGET)
    targets: Dict[str, Target] = {}
    broken: Dict[str, ShipmarkError] = {}
    for job in jobs:
        name = job.config.name
        if name in targets or name in broken:
            continue
        try:
            targets[name] = build_target(job.config, options, console, budget)
        except ShipmarkError as exc:  # e.g. a backend refusing its config: that target fails, not all
            broken[name] = exc

    journal = _Journal(options, console)
    journal.start([(job, targets[job.config.name]) for job in jobs if job.config.name in targets])
    outcomes = _fan_out(jobs, targets, broken, options, console, journal, budget)

    if options.wait and not options.dry_run:
        _wait_all(targets, jobs, outcomes, options, console)

    report = Report(results=[o.result for o in outcomes], outcomes=outcomes)
    report.exit_status = exit_status(outcomes, options.fail_on_error)
    return report


def _fan_out(jobs: Sequence[Job], targets: Dict[str, Target], broken: Dict[str, ShipmarkError],
             options: Options, console: Console, journal: "_Journal", budget) -> List[Outcome]:
    """Run every job in daemon threads; nothing may outlive the time budget (plus a grace period).

    A server that trickles bytes or never finishes its headers could hold a thread
    past every socket timeout; such a job is reported as a transient failure at the
    deadline and its thread is abandoned (daemon threads do not delay the exit).
    """
    outcomes: List[Optional[Outcome]] = [None] * len(jobs)
    started = [False] * len(jobs)
    settling: set = set()
    done = threading.Condition()
    queue = _round_robin(jobs)
    queue.reverse()  # popped from the end

    def finish(index: int, outcome: Outcome) -> None:
        with done:
            if outcomes[index] is not None:
                return  # the deadline already decided this one
            settling.add(index)
        try:
            # Queued for the spool before the outcome is published; the main thread
            # drains the journal before it reports.
            journal.settle(jobs[index], outcome)
        finally:
            with done:
                outcomes[index] = outcome
                settling.discard(index)
                done.notify_all()

    def worker() -> None:
        while True:
            with done:
                if not queue:
                    return
                index = queue.pop()
                if outcomes[index] is not None:
                    continue
                started[index] = True
            job = jobs[index]
            if job.config.name in broken:
                exc = broken[job.config.name]
                kind = USAGE if exc.exit_status == ExitStatus.USAGE else PERMANENT
                outcome = Outcome(_plain_result(job, ok=False, error=exc.message), kind, bool(job.config.required))
            else:
                outcome = _run_one(targets[job.config.name], job, options, console)
            finish(index, outcome)

    threads = [threading.Thread(target=worker, name=f"shipmark-{i}", daemon=True)
               for i in range(max(1, min(options.concurrency, len(jobs))))]
    for thread in threads:
        thread.start()
    deadline = max([t.http.budget.deadline for t in targets.values()] + [budget.deadline]) + DEADLINE_GRACE
    late: List[int] = []
    with done:
        while any(o is None for o in outcomes):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            done.wait(min(left, 0.5))
        # Jobs writing their spool entry are nearly done: give the local write a moment.
        settle_end = time.monotonic() + 5.0
        while settling and time.monotonic() < settle_end:
            done.wait(0.05)
        late = [i for i, o in enumerate(outcomes) if o is None]
        for index in late:
            job = jobs[index]
            seconds = targets[job.config.name].http.budget.seconds if job.config.name in targets else budget.seconds
            was_sent = started[index] and job.request.operation in WRITE_OPERATIONS
            error = (f"no complete answer within the time budget of {seconds:g}s" if started[index]
                     else f"not sent: the time budget of {seconds:g}s ran out first")
            target = targets.get(job.config.name)
            outcomes[index] = Outcome(_plain_result(job, ok=False, error=error, transient=True), TRANSIENT,
                                      bool(job.config.required), may_have_landed=was_sent,
                                      verifiable=bool(getattr(target, "supports_lookup", False)))
    for index in late:
        journal.settle(jobs[index], outcomes[index])  # type: ignore[arg-type]
    journal.drain()
    return [o for o in outcomes if o is not None]


def _round_robin(jobs: Sequence[Job]) -> List[int]:
    """Job indexes in the order to start them: one per target in turn.

    The first jobs then reach every service at once (each target's shared lookup, see
    Target.once, starts right away) instead of all workers queueing behind the first
    target's. Results are still reported in the order given.
    """
    by_target: Dict[str, List[int]] = {}
    for index, job in enumerate(jobs):
        by_target.setdefault(job.config.name, []).append(index)
    order: List[int] = []
    lanes = list(by_target.values())
    for depth in range(max((len(lane) for lane in lanes), default=0)):
        order.extend(lane[depth] for lane in lanes if depth < len(lane))
    return order


def _plain_result(job: Job, **fields: object) -> Result:
    event = job.request.event
    return Result(target=job.config.name, type=job.config.type, operation=job.request.operation,
                  event_key=event.event_key, host=event.host, **fields)


def _run_one(target: Target, job: Job, options: Options, console: Console) -> Outcome:
    from shipmark.http import uncertain_resend

    with uncertain_resend(job.uncertain and not options.dry_run):
        return _run_checked(target, job, options)


def _run_checked(target: Target, job: Job, options: Options) -> Outcome:
    request = dataclasses.replace(job.request, dry_run=options.dry_run)
    required = bool(job.config.required)
    try:
        target.check(request)
        result = getattr(target, request.operation)(request)
        return Outcome(result, SKIPPED if result.skipped else OK, required)
    except UnsupportedError as exc:
        if job.explicit:
            return Outcome(target.result(request, ok=False, error=exc.message), USAGE, required)
        return Outcome(target.result(request, ok=True, skipped=True, message=exc.message), SKIPPED, required)
    except ApiError as exc:
        result = target.result(request, ok=False, error=exc.message, status_code=exc.status_code,
                               transient=exc.transient)
        return Outcome(result, TRANSIENT if exc.transient else PERMANENT, required,
                       may_have_landed=bool(exc.transient and exc.may_have_landed),
                       verifiable=bool(getattr(exc, "lookup_available", False)),
                       unverifiable=bool(getattr(exc, "unverifiable", False)))
    except ShipmarkError as exc:
        kind = USAGE if exc.exit_status == ExitStatus.USAGE else PERMANENT
        return Outcome(target.result(request, ok=False, error=exc.message), kind, required)
    except Exception as exc:  # a bug in a backend must not hide the other targets' results
        error = f"internal error in the {target.type} backend: {exc.__class__.__name__}: {exc}"
        return Outcome(target.result(request, ok=False, error=error), PERMANENT, required)


class _Journal:
    """The spool as a write-ahead journal for one run: pending before sending, settled after."""

    def __init__(self, options: Options, console: Console):
        self.path = options.spool_path if (options.spool_path and not options.dry_run) else None
        self.console = console
        self._ids: Dict[int, str] = {}
        self._batch = threading.Condition()
        self._queue: List[Tuple[spool.Settlement, Outcome]] = []
        self._writing = False

    def start(self, pairs: Sequence[Tuple[Job, Target]]) -> None:
        if self.path is None:
            return
        entries = []
        for job, target in pairs:
            if job.request.operation not in WRITE_OPERATIONS or not target.supports(job.request.operation):
                continue
            entry = spool.make_entry(job.config.name, job.config.type, job.request.to_json_dict(),
                                     job.request.event.event_key)
            entries.append(entry)
            self._ids[id(job)] = spool.entry_id(entry)
        if not entries:
            return
        try:
            spool.journal(self.path, entries)
        except OSError as exc:
            self.console.warn(f"could not write the spool {self.path}: {exc.strerror or exc}; "
                              "delivering without it (an event that fails now is not kept)")
            self._ids.clear()

    def settle(self, job: Job, outcome: Outcome) -> None:
        """Hand one outcome to the spool.

        Group commit: the thread that finds no write in progress rewrites the spool with
        every outcome queued so far, again until none is left; the others go on with their
        next job. 100 hosts cost a handful of rewrites (and fsyncs), not 100 in a row.
        drain() waits for the last write before the command reports.
        """
        eid = self._ids.pop(id(job), None)
        if eid is None or self.path is None:
            return
        keep = outcome.kind == TRANSIENT and (not outcome.may_have_landed or outcome.verifiable)
        if outcome.kind == TRANSIENT and not keep:
            result = outcome.result
            if result.error and "(not re-sent" not in result.error:
                result.error += (f" (not kept for a resend: it may have been recorded and {job.config.type} "
                                 "offers no way to check for this operation)")
        settlement = spool.Settlement(eid, delivered=not keep, error=outcome.result.error or "",
                                      may_have_landed=outcome.may_have_landed)
        with self._batch:
            self._queue.append((settlement, outcome))
        self._pump()

    def _pump(self) -> None:
        """Unless another thread is writing, write queued outcomes in batches until none is left."""
        with self._batch:
            if self._writing:
                return  # the thread writing now takes what was queued next
            self._writing = True
        try:
            while True:
                with self._batch:
                    batch, self._queue = self._queue, []
                    if not batch:  # checked and released under one lock: nothing can be stranded
                        self._writing = False
                        self._batch.notify_all()
                        return
                self._write_batch(batch)
        except BaseException:
            with self._batch:
                self._writing = False
                self._batch.notify_all()
            raise

    def drain(self, timeout: float = 5.0) -> None:
        """Wait until every outcome handed to settle() is in the spool (it is a local write)."""
        self._pump()  # whatever a writer that failed left queued
        end = time.monotonic() + timeout
        with self._batch:
            while (self._writing or self._queue) and time.monotonic() < end:
                self._batch.wait(0.05)

    def _write_batch(self, batch: List[Tuple["spool.Settlement", Outcome]]) -> None:
        try:
            kept = spool.settle_all(self.path, [settlement for settlement, _ in batch])
        except OSError as exc:
            self.console.warn(f"could not update the spool {self.path}: {exc.strerror or exc}")
            return
        for settlement, outcome in batch:
            if settlement.eid in kept:
                outcome.result.spooled = True


def _wait_all(targets: Dict[str, Target], jobs: Sequence[Job], outcomes: List[Outcome],
              options: Options, console: Console) -> None:
    from shipmark.http import Budget, DEFAULT_BUDGET

    pending: List[Tuple[Target, Outcome]] = []
    for job, outcome in zip(jobs, outcomes):
        target = targets.get(job.config.name)
        if target is None or outcome.kind != OK or job.request.operation not in WAIT_OPERATIONS:
            continue
        if type(target).poll is Target.poll:
            outcome.result.message = (outcome.result.message + "; " if outcome.result.message else "") + \
                f"--wait: {target.type} has no remote state to wait for"
            continue
        pending.append((target, outcome))
    if not pending:
        return
    started = time.monotonic()
    deadline = started + options.wait_timeout
    interval = 2.0
    last_words: Dict[int, str] = {}
    while pending:
        still: List[Tuple[Target, Outcome]] = []
        for target, outcome in pending:
            # The delivery budget is spent by now: each poll gets its own, inside --wait-timeout.
            target.http.budget = Budget(max(1.0, min(DEFAULT_BUDGET, deadline - time.monotonic())))
            try:
                status, word = target.poll(outcome.result)
            except ApiError as exc:
                if not exc.transient:
                    outcome.result.ok = False
                    outcome.result.error = f"while waiting: {exc.message}"
                    outcome.kind = PERMANENT
                    continue
                status, word = None, "unreachable"
            outcome.result.remote_status = status.value if status else word
            if status is not None and status.is_final:
                if status in FAILED_STATES:
                    outcome.result.ok = False
                    outcome.result.error = f"the deployment ended {word}"
                    outcome.kind = REMOTE_FAILED
                continue
            if last_words.get(id(outcome)) != word:
                last_words[id(outcome)] = word
            still.append((target, outcome))
        pending = still
        if not pending:
            break
        elapsed = time.monotonic() - started
        if time.monotonic() >= deadline:
            for target, outcome in pending:
                outcome.result.ok = False
                outcome.result.error = (f"--wait timed out after {options.wait_timeout:g}s; "
                                        f"last state: {outcome.result.remote_status}")
                outcome.kind = REMOTE_FAILED
            break
        states = ", ".join(f"{o.result.target}: {o.result.remote_status}" for _, o in pending)
        console.info(f"waiting ({elapsed:.0f}s of {options.wait_timeout:g}s): {states}")
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(interval * 1.5, 15.0)


def exit_status(outcomes: Sequence[Outcome], fail_on_error: bool) -> ExitStatus:
    kinds = [o.kind for o in outcomes]
    if USAGE in kinds:
        return ExitStatus.USAGE
    if PERMANENT in kinds or any(o.kind == TRANSIENT and (fail_on_error or o.required) for o in outcomes):
        return ExitStatus.DELIVERY_FAILED
    if REMOTE_FAILED in kinds:
        return ExitStatus.REMOTE_FAILED
    return ExitStatus.OK


def flush(settings, options: Options, console: Console,
          on_result: Optional[Callable[[Result], None]] = None) -> Tuple[int, int, List[Result]]:
    """Resend spooled entries. Returns (delivered, still spooled, results).

    Entries are claimed first, so two processes never resend the same entry, and
    an entry a live process is still delivering is left alone. Every resend of a
    create goes through the backend's event_key lookup (create_once), so an event
    that did land before a failure or a kill is reported "already recorded"
    instead of being recorded twice. An entry that may have landed is resent only
    through such a lookup or with writes that are safe to repeat; otherwise it is
    reported and dropped (resending could duplicate it).
    """
    from shipmark.output import describe

    path = options.spool_path
    if not path or not spool.has_entries(path):
        return 0, 0, []
    dry = options.dry_run
    try:
        entries = spool.load(path) if dry else spool.claim(path)
    except OSError as exc:
        console.warn(f"spool {path}: cannot read it: {exc.strerror or exc}")
        return 0, 0, []
    by_lower = {name.lower(): name for name in settings.targets}
    jobs: List[Job] = []
    ids: List[str] = []
    done: List[str] = []
    untouched: List[str] = []
    for entry in entries:
        eid = spool.entry_id(entry)
        name = entry.get("target")
        config = settings.targets.get(name) or settings.targets.get(by_lower.get(str(name).lower(), ""))
        if config is None:
            console.warn(f"spool: target {name!r} is not configured here; its entry is kept")
            untouched.append(eid)
            continue
        if entry.get("type") and entry["type"] != config.type:
            console.warn(f"spool: target {name!r} is now a {config.type} target, the entry was for "
                         f"{entry['type']}; it is kept")
            untouched.append(eid)
            continue
        try:
            request = dataclasses.replace(Request.from_json_dict(entry["request"]), dry_run=False)
            if request.operation not in WRITE_OPERATIONS:
                raise ValueError(request.operation)
        except Exception:
            console.warn(f"spool: dropping an unreadable entry for {name!r}")
            done.append(eid)
            continue
        # An entry whose earlier attempt may have landed is resent only through an event_key
        # lookup (or with a write that is safe to repeat): see Job.uncertain.
        jobs.append(Job(config=config, request=request, explicit=True, uncertain=bool(entry.get("may_have_landed"))))
        ids.append(eid)
    no_respool = Options(dry_run=dry, timeout=options.timeout, fail_on_error=options.fail_on_error,
                         concurrency=options.concurrency)
    report = run(jobs, no_respool, console) if jobs else Report()
    kept = 0
    for eid, job, outcome in zip(ids, jobs, report.outcomes):
        result = outcome.result
        if outcome.kind in (OK, SKIPPED):
            done.append(eid)
            console.info("spool: " + describe(result))
        elif outcome.kind == TRANSIENT:
            if outcome.may_have_landed and not outcome.verifiable and not dry:
                console.error(f"spool: {result.target}: {_what(job.request)} may have been recorded and cannot "
                              f"be checked; it is not resent again: {result.error}")
                done.append(eid)
                continue
            kept += 1
            result.spooled = True
            if not dry:
                try:
                    spool.release(path, eid, error=result.error or "", may_have_landed=outcome.may_have_landed)
                except OSError as exc:
                    console.warn(f"spool {path}: cannot update it: {exc.strerror or exc}")
        elif outcome.unverifiable:
            console.error(f"spool: {result.target}: {_what(job.request)}: {result.error}")
            done.append(eid)
        else:
            # Permanent: resending cannot help; drop it and say so.
            console.error(f"spool: {result.target} rejected a spooled event and it was dropped: {result.error}")
            done.append(eid)
        if on_result is not None:
            on_result(result)
    if not dry:
        try:
            for eid in untouched:
                spool.release(path, eid, attempted=False)
            spool.remove(path, done)
        except OSError as exc:
            console.warn(f"spool {path}: cannot update it: {exc.strerror or exc}")
    delivered = sum(1 for o in report.outcomes if o.kind in (OK, SKIPPED))
    return delivered, kept, report.results


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


def probe_all(configs: Sequence[TargetConfig], options: Options, console: Console) -> Report:
    """`check --online`: one authenticated read per target, concurrently, inside one budget."""
    from concurrent.futures import ThreadPoolExecutor

    from shipmark.http import DEFAULT_BUDGET, Budget

    budget = Budget(options.timeout or DEFAULT_BUDGET)

    def probe(config: TargetConfig) -> Tuple[Result, ExitStatus]:
        target = build_target(config, options, console, budget)
        try:
            detail = target.probe()
            return Result(target=config.name, type=config.type, operation="check", message=detail), ExitStatus.OK
        except ShipmarkError as exc:
            code = ExitStatus.DELIVERY_FAILED if isinstance(exc, ApiError) else exc.exit_status
            return Result(target=config.name, type=config.type, operation="check", ok=False,
                          error=exc.message), code

    report = Report()
    if not configs:
        return report
    with ThreadPoolExecutor(max_workers=max(1, min(options.concurrency, len(configs)))) as pool:
        outcomes = list(pool.map(probe, configs))
    report.results = [result for result, _ in outcomes]
    report.exit_status = max((code for _, code in outcomes), default=ExitStatus.OK)
    return report

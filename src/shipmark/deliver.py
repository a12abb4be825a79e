"""Fan requests out to targets, apply the failure policy, wait, spool.

One task per (target, host). Tasks run in a thread pool; results come back in
the order the targets and hosts were given. A failing target never stops the
others. The exit status follows DESIGN.md: 2 usage/unsupported, 1 permanent
failure (or a transient one on a required target / with --fail-on-error),
3 a waited-for deployment failed or timed out, else 0.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from shipmark import spool
from shipmark.errors import ApiError, ExitStatus, ShipmarkError, UnsupportedError
from shipmark.models import FAILED_STATES, Result
from shipmark.output import Console
from shipmark.targets import target_class
from shipmark.targets.base import WRITE_OPERATIONS, Request, Target, TargetConfig

MAX_WORKERS = 16
WAIT_OPERATIONS = frozenset({"deploy", "build_deploy", "deployment_retry"})

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


@dataclass
class Job:
    config: TargetConfig
    request: Request
    explicit: bool  # named with -t: an unsupported operation is an error, not a skip


@dataclass
class Outcome:
    result: Result
    kind: str
    required: bool = False


@dataclass
class Report:
    results: List[Result] = field(default_factory=list)
    outcomes: List[Outcome] = field(default_factory=list)
    exit_status: ExitStatus = ExitStatus.OK

    @property
    def ok(self) -> bool:
        return self.exit_status == ExitStatus.OK and all(o.kind in (OK, SKIPPED) for o in self.outcomes)


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
    for job in jobs:
        if job.config.name not in targets:
            targets[job.config.name] = build_target(job.config, options, console, budget)

    def task(job: Job) -> Outcome:
        return _run_one(targets[job.config.name], job, options, console)

    if len(jobs) == 1:
        outcomes = [task(jobs[0])]
    else:
        with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(jobs)), thread_name_prefix="shipmark") as pool:
            outcomes = list(pool.map(task, jobs))  # map keeps the input order

    if options.wait and not options.dry_run:
        _wait_all(targets, jobs, outcomes, options, console)

    for job, outcome in zip(jobs, outcomes):
        if outcome.kind == TRANSIENT and options.spool_path and job.request.operation in WRITE_OPERATIONS \
                and not options.dry_run:
            try:
                spool.add(options.spool_path, job.config.name, job.request.model_dump(mode="json"),
                          job.request.event.event_key, outcome.result.error or "")
                outcome.result.spooled = True
            except OSError as exc:
                console.warn(f"could not write the spool {options.spool_path}: {exc.strerror or exc}")

    report = Report(results=[o.result for o in outcomes], outcomes=outcomes)
    report.exit_status = exit_status(outcomes, options.fail_on_error)
    return report


def _run_one(target: Target, job: Job, options: Options, console: Console) -> Outcome:
    request = job.request.model_copy(update={"dry_run": options.dry_run})
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
        return Outcome(result, TRANSIENT if exc.transient else PERMANENT, required)
    except ShipmarkError as exc:
        kind = USAGE if exc.exit_status == ExitStatus.USAGE else PERMANENT
        return Outcome(target.result(request, ok=False, error=exc.message), kind, required)
    except Exception as exc:  # a bug in a backend must not hide the other targets' results
        error = f"internal error in the {target.type} backend: {exc.__class__.__name__}: {exc}"
        return Outcome(target.result(request, ok=False, error=error), PERMANENT, required)


def _wait_all(targets: Dict[str, Target], jobs: Sequence[Job], outcomes: List[Outcome],
              options: Options, console: Console) -> None:
    pending: List[Tuple[Target, Outcome]] = []
    for job, outcome in zip(jobs, outcomes):
        target = targets[job.config.name]
        if outcome.kind != OK or job.request.operation not in WAIT_OPERATIONS:
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
    """Resend spooled entries. Returns (delivered, still spooled, results)."""
    path = options.spool_path
    if not path or not spool.has_entries(path):
        return 0, 0, []
    entries = spool.load(path)
    jobs: List[Job] = []
    ids: List[str] = []
    dropped: List[str] = []
    for entry in entries:
        config = settings.targets.get(entry.get("target"))
        if config is None:
            console.warn(f"spool: target {entry.get('target')!r} is no longer configured; entry kept")
            continue
        try:
            request = Request.model_validate(entry["request"])
        except Exception:
            console.warn(f"spool: dropping an unreadable entry for {entry.get('target')!r}")
            dropped.append(spool.entry_id(entry))
            continue
        jobs.append(Job(config=config, request=request, explicit=True))
        ids.append(spool.entry_id(entry))
    no_respool = Options(dry_run=options.dry_run, timeout=options.timeout, fail_on_error=options.fail_on_error)
    report = run(jobs, no_respool, console) if jobs else Report()
    done = list(dropped)
    kept = 0
    for entry_id, outcome in zip(ids, report.outcomes):
        if outcome.kind in (OK, SKIPPED):
            done.append(entry_id)
        elif outcome.kind == TRANSIENT:
            kept += 1
        else:
            # Permanent: resending cannot help; drop it and say so.
            console.error(f"spool: {outcome.result.target} rejected a spooled event and it was dropped: "
                          f"{outcome.result.error}")
            done.append(entry_id)
    if not options.dry_run:
        spool.remove(path, done)
    delivered = sum(1 for o in report.outcomes if o.kind in (OK, SKIPPED))
    return delivered, kept, report.results

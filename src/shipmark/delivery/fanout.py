"""Run the jobs of one command: one per (target, host), in threads, inside the time budget.

Results come back in the order the targets and hosts were given. A failing target
never stops the others; nothing may outlive the time budget (plus a grace period).
"""
from __future__ import annotations

import copy
import dataclasses
import threading
import time
from typing import Dict, List, Optional, Sequence

from shipmark.delivery.jobs import Job, Options
from shipmark.delivery.journal import Journal
from shipmark.delivery.policy import (OK, PERMANENT, SKIPPED, TRANSIENT, USAGE, Outcome, Report, error_kind,
                                      exit_status)
from shipmark.delivery.selection import build_target
from shipmark.errors import ApiError, ShipmarkError, UnsupportedError
from shipmark.models import Result
from shipmark.operations import WRITE_OPERATIONS
from shipmark.output import Console
from shipmark.targets.base import Target
from shipmark.wording import seconds as duration

# How long past the time budget a job may run before it is reported as timed out.
DEADLINE_GRACE = 2.0


def run(jobs: Sequence[Job], options: Options, console: Console) -> Report:
    """Deliver every job, wait for remote deployments if asked, and decide the exit status."""
    from shipmark.delivery.wait import wait_all
    from shipmark.http import DEFAULT_BUDGET, Budget

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

    journal = Journal(options, console)
    journal.start([(job, targets[job.config.name]) for job in jobs if job.config.name in targets])
    outcomes = _FanOut(jobs, targets, broken, options, journal).run(budget)
    again = journal.one_job_retries(jobs, outcomes)
    if again:  # their token ends with this job: try once more now, then they are lost (see Journal)
        retry = [dataclasses.replace(jobs[i], uncertain=jobs[i].uncertain or outcomes[i].may_have_landed)
                 for i in again]
        journal.start([(job, targets[job.config.name]) for job in retry if job.config.name in targets])
        for i, outcome in zip(again, _FanOut(retry, targets, broken, options, journal).run(budget)):
            outcomes[i] = outcome
        journal.lose(retry, [outcomes[i] for i in again])

    if options.wait and not options.dry_run:
        wait_all(targets, jobs, outcomes, options, console)

    report = Report(results=[o.result for o in outcomes], outcomes=outcomes)
    report.exit_status = exit_status(outcomes, options.fail_on_error)
    return report


class _FanOut:
    """Every job in daemon threads, started round robin across targets.

    A server that trickles bytes or never finishes its headers could hold a thread
    past every socket timeout; such a job is reported as a transient failure at the
    deadline and its thread is abandoned (daemon threads do not delay the exit).
    """

    def __init__(self, jobs: Sequence[Job], targets: Dict[str, Target], broken: Dict[str, ShipmarkError],
                 options: Options, journal: Journal):
        self.jobs = jobs
        self.targets = targets
        self.broken = broken
        self.options = options
        self.journal = journal
        self.outcomes: List[Optional[Outcome]] = [None] * len(jobs)
        self.started = [False] * len(jobs)
        self.settling: set = set()  # jobs handing their outcome to the journal right now
        self.done = threading.Condition()
        self.queue = round_robin(jobs)
        self.queue.reverse()  # popped from the end

    def run(self, budget) -> List[Outcome]:
        threads = [threading.Thread(target=self._worker, name=f"shipmark-{i}", daemon=True)
                   for i in range(max(1, min(self.options.concurrency, len(self.jobs))))]
        for thread in threads:
            thread.start()
        deadline = max([t.http.budget.deadline for t in self.targets.values()] + [budget.deadline]) + DEADLINE_GRACE
        with self.done:
            while any(o is None for o in self.outcomes):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.done.wait(min(left, 0.5))
            # Jobs writing their spool entry are nearly done: give the local write a moment.
            settle_end = time.monotonic() + 5.0
            while self.settling and time.monotonic() < settle_end:
                self.done.wait(0.05)
            late = [i for i, o in enumerate(self.outcomes) if o is None]
            for index in late:
                self.outcomes[index] = self._timed_out(index, budget)
        for index in late:
            self.journal.settle(self.jobs[index], self.outcomes[index])  # type: ignore[arg-type]
        self.journal.drain()
        return [o for o in self.outcomes if o is not None]

    def _worker(self) -> None:
        while True:
            with self.done:
                if not self.queue:
                    return
                index = self.queue.pop()
                if self.outcomes[index] is not None:
                    continue
                self.started[index] = True
            job = self.jobs[index]
            if job.config.name in self.broken:
                exc = self.broken[job.config.name]
                outcome = Outcome(plain_result(job, ok=False, error=exc.message), error_kind(exc.exit_status),
                                  bool(job.config.required))
            else:
                outcome = _run_one(self.targets[job.config.name], job, self.options)
            self._finish(index, outcome)

    def _finish(self, index: int, outcome: Outcome) -> None:
        with self.done:
            if self.outcomes[index] is not None:
                return  # the deadline already decided this one
            self.settling.add(index)
        try:
            # Queued for the spool before the outcome is published; the main thread
            # drains the journal before it reports.
            self.journal.settle(self.jobs[index], outcome)
        finally:
            with self.done:
                self.outcomes[index] = outcome
                self.settling.discard(index)
                self.done.notify_all()

    def _timed_out(self, index: int, budget) -> Outcome:
        """The outcome of a job still running (or never started) at the deadline."""
        job = self.jobs[index]
        target = self.targets.get(job.config.name)
        seconds = target.http.budget.seconds if target is not None else budget.seconds
        started = self.started[index]
        error = (f"no complete answer within the time budget of {duration(seconds)}" if started
                 else f"not sent: the time budget of {duration(seconds)} ran out first")
        return Outcome(plain_result(job, ok=False, error=error, transient=True), TRANSIENT,
                       bool(job.config.required),
                       may_have_landed=started and job.request.operation in WRITE_OPERATIONS,
                       verifiable=resend_is_safe(target))


def resend_is_safe(target: Optional[Target]) -> bool:
    """May a write cut off by the deadline be sent again later? Yes when the service lets a
    resend look the record up by event key, or when the target declared its writes (POST)
    safe to repeat, as the HTTP layer's own retries already trust."""
    return target is not None and (target.supports_lookup or target.http.retry_safe("POST"))


def round_robin(jobs: Sequence[Job]) -> List[int]:
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


def _resending(target: Target) -> Target:
    """The target as one job resending an uncertain spooled event sees it.

    A shallow copy shares the config, the shared lookups (Target.once) and the HTTP
    sessions; only its HTTP client differs, carrying this job's UncertainResend, which
    the client and Target.create_once consult (no state shared with the other jobs).
    """
    from shipmark.http.resend import UncertainResend

    view = copy.copy(target)
    view.http = target.http.for_resend(UncertainResend())
    return view


def plain_result(job: Job, **fields: object) -> Result:
    """A Result from the job alone: its target was refused, or the job never ended in time."""
    event = job.request.event
    return Result(target=job.config.name, type=job.config.type, operation=job.request.operation,
                  event_key=event.event_key, host=event.host, **fields)


def _run_one(target: Target, job: Job, options: Options) -> Outcome:
    """One job: check, send, and classify how it ended (a bug in a backend included)."""
    if job.uncertain and not options.dry_run:
        target = _resending(target)
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
                       verifiable=exc.lookup_available, unverifiable=exc.unverifiable)
    except ShipmarkError as exc:
        return Outcome(target.result(request, ok=False, error=exc.message), error_kind(exc.exit_status), required)
    except Exception as exc:  # a bug in a backend must not hide the other targets' results
        error = f"internal error in the {target.type} backend: {exc.__class__.__name__}: {exc}"
        return Outcome(target.result(request, ok=False, error=error), PERMANENT, required)

"""--wait: poll the remote deployments a run started until each is final or the wait times out."""
from __future__ import annotations

import time
from typing import Dict, List, Sequence, Tuple

from shipmark.delivery.jobs import Job, Options
from shipmark.delivery.policy import OK, PERMANENT, REMOTE_FAILED, Outcome
from shipmark.errors import ApiError
from shipmark.models import FAILED_STATES, Status
from shipmark.operations import WAIT_OPERATIONS
from shipmark.output import Console
from shipmark.targets.base import Target
from shipmark.wording import seconds as duration

# How a failed end reads ("the deployment failed", not "ended failed").
ENDED = {Status.FAILURE: "failed", Status.CANCELLED: "was cancelled"}


def wait_all(targets: Dict[str, Target], jobs: Sequence[Job], outcomes: List[Outcome],
             options: Options, console: Console) -> None:
    from shipmark.http import DEFAULT_BUDGET, Budget

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
                    outcome.result.error = f"the deployment {ENDED[status]} (state: {word})"
                    outcome.kind = REMOTE_FAILED
                continue
            still.append((target, outcome))
        pending = still
        if not pending:
            break
        elapsed = time.monotonic() - started
        if time.monotonic() >= deadline:
            for target, outcome in pending:
                outcome.result.ok = False
                outcome.result.error = (f"--wait timed out after {duration(options.wait_timeout)}; "
                                        f"last state: {outcome.result.remote_status}")
                outcome.kind = REMOTE_FAILED
            break
        states = ", ".join(f"{o.result.target}: {o.result.remote_status}" for _, o in pending)
        console.info(f"waiting ({elapsed:.0f}s of {duration(options.wait_timeout)}): {states}")
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(interval * 1.5, 15.0)

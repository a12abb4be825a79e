"""The spool as a write-ahead journal for one run: pending before sending, settled after.

Before the fan-out starts, every write a target supports is recorded as pending
(``start``); as each job ends, its outcome settles the entry: delivered or
rejected for good, it leaves the spool; a transient failure stays to be resent.

Entries are signed with their target's secrets (shipmark.spool_trust). A write whose
token is the job's own ``GITHUB_TOKEN`` cannot be resent by a later run (GitHub revokes
that token when the job ends): such a write is retried once at the end of this run
(``one_job_retries``), and if it still fails it is reported lost (``lose``), not spooled.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Dict, List, Sequence, Tuple

from shipmark import spool
from shipmark.delivery.jobs import Job, Options
from shipmark.delivery.policy import TRANSIENT, Outcome
from shipmark.operations import WRITE_OPERATIONS
from shipmark.output import Console
from shipmark.targets.base import Target


class Journal:
    def __init__(self, options: Options, console: Console):
        self.path = options.spool_path if (options.spool_path and not options.dry_run) else None
        self.console = console
        self._ids: Dict[int, str] = {}
        self._batch = threading.Condition()
        self._queue: List[Tuple[spool.Settlement, Outcome]] = []
        self._writing = False

    def start(self, pairs: Sequence[Tuple[Job, Target]]) -> None:
        """Record every write about to be sent, in one write of the spool."""
        if self.path is None:
            return
        from shipmark.spool_trust import key_for, refusal

        entries = []
        for job, target in pairs:
            if job.request.operation not in WRITE_OPERATIONS or not target.supports(job.request.operation):
                continue
            entry = spool.make_entry(job.config.name, job.config.type, job.request.to_json_dict(),
                                     job.request.event.event_key, key=key_for(job.config))
            entries.append(entry)
            self._ids[id(job)] = spool.entry_id(entry)
        if not entries:
            return
        try:
            spool.journal(self.path, entries)
        except spool.UntrustedSpool as exc:
            message = refusal(self.path, exc)
            if message:
                self.console.warn(message)
            self._ids.clear()
        except OSError as exc:
            self.console.warn(f"spool: could not write {self.path}: {exc.strerror or exc}; "
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
        keep = _resendable(outcome)
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

    def _write_batch(self, batch: List[Tuple[spool.Settlement, Outcome]]) -> None:
        try:
            kept = spool.settle_all(self.path, [settlement for settlement, _ in batch])
        except OSError as exc:
            self.console.warn(f"spool: could not update {self.path}: {exc.strerror or exc}")
            return
        for settlement, outcome in batch:
            if settlement.eid in kept:
                outcome.result.spooled = True

    # -- writes whose credential ends with this job -------------------------------------
    def one_job_retries(self, jobs: Sequence[Job], outcomes: Sequence[Outcome]) -> List[int]:
        """The writes to try once more before this run ends: a later run could not resend them.

        Only for a command's own writes: a flush leaves its entries in the spool for the next
        command of the same job (once the token has changed, they no longer verify).
        """
        if self.path is None:  # a dry run, a read, or a flush
            return []
        return [i for i, (job, outcome) in enumerate(zip(jobs, outcomes))
                if job.request.operation in WRITE_OPERATIONS and _resendable(outcome)
                and one_job_credential(job.config, self.console.env)]

    def lose(self, jobs: Sequence[Job], outcomes: Sequence[Outcome]) -> None:
        """After the last try: what still failed is taken out of the spool and reported lost."""
        lost = [(job, outcome) for job, outcome in zip(jobs, outcomes) if _resendable(outcome)]
        if not lost:
            return
        if self.path is not None:
            try:
                spool.remove(self.path, [_entry_id(job) for job, _ in lost])
            except OSError as exc:
                self.console.warn(f"spool: could not update {self.path}: {exc.strerror or exc}")
        for job, outcome in lost:
            outcome.result.spooled = False
            self.console.warn(f"spool: {job.config.name}: {job.request.operation.replace('_', ' ')} "
                              f"(event {job.request.event.event_key}) is lost: it failed again when retried at "
                              "the end of this run, and its token is this job's GITHUB_TOKEN, which no later "
                              "run can use")


def _resendable(outcome: Outcome) -> bool:
    """A transient failure that a resend may fix without risking a duplicate."""
    return outcome.kind == TRANSIENT and (not outcome.may_have_landed or outcome.verifiable)


def _entry_id(job: Job) -> str:
    return spool.entry_id({"target": job.config.name, "request": {"operation": job.request.operation},
                           "event_key": job.request.event.event_key})


def one_job_credential(config: Any, env: Any) -> bool:
    """Is one of the target's secrets the job's own GITHUB_TOKEN (valid only while the job runs)?"""
    token = (env or {}).get("GITHUB_TOKEN")
    return bool(token) and any(secret == token for secret, _username in config.secrets())

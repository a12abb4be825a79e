"""Delivering requests to targets: fan-out, spool journal, --wait, exit policy, flush, online check.

One module per concern:

- ``jobs``: what a command asks for (Options, Job);
- ``selection``: which targets an operation goes to, and building each one;
- ``fanout``: running the jobs in threads inside the time budget (``run``);
- ``journal``: the spool as a write-ahead journal of one run;
- ``wait``: following remote deployments (--wait);
- ``policy``: how each job ended (Outcome) and the exit status;
- ``flushing``: resending spooled entries (``flush``);
- ``probe``: ``check --online``.

The names below are imported on first use, so ``from shipmark.delivery import
select_targets`` does not load the fan-out, the spool or the HTTP stack.
"""
from __future__ import annotations

from shipmark.lazy import lazy_attributes

_HOMES = {
    "Options": "jobs",
    "Job": "jobs",
    "select_targets": "selection",
    "build_target": "selection",
    "run": "fanout",
    "Outcome": "policy",
    "Report": "policy",
    "flush": "flushing",
    "probe_all": "probe",
}

__all__ = sorted(_HOMES)
__getattr__ = lazy_attributes(__name__, _HOMES, globals())
